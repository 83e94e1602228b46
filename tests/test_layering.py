"""The data flow is the architecture: imports only flow down it, and no module imports itself in a circle.

Read from the source (``ast``), so a violation fails here with the importing file named, whatever the
import order at run time happens to be:

* a module of package P may import (at module level) only P itself and packages listed before P in
  ``LAYERS``;
* the module-level imports between skillit's modules have no cycle;
* function-level imports name only optional dependencies (``OPTIONAL``) — never a skillit module or a
  core dependency, which belong at the top of the file. Two exceptions keep the command line quick
  (tests/test_startup.py): a command module (``COMMAND_MODULES``) imports what a command runs inside that
  command, and these imports must flow down the layers too; ``DEFERRED`` names the heavy core modules a
  light module imports where it uses them.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "skillit"

# skills → graph → policy → sampler → trainer → records → report → experiment, and around them:
LAYERS = [
    "errors",
    "utils",
    "skills",
    "graph",
    "tasks",  # task builders: skill sets and their planted graphs
    "policy",
    "policies",  # the public namespace of every policy (lazy names of skillit.policy)
    "sampler",
    "model",
    "trainer",  # the one loop and the Mixer
    "graph_learners",  # learners train, so they sit above the trainer
    "records",
    "report",
    "testing",  # check_policy, for users' own policies
    "experiment",
    "integrations",  # Hugging Face: callbacks around someone else's trainer
    "llm",  # LLM-side skill methods (backends, Skill-Mix, Instruct-SkillMix, STAT, grafting) and their commands
    "discover",  # skills from data (trajectory clustering, regrouping, missing-skill profile) and their commands
    "cli",
    "__main__",
    "__init__",  # the public surface re-exports everything
]

DATA_FOLDER = "corpora"  # skillit/corpora: shipped data sets (and the scripts that built them), no skillit code

# packages that may be imported inside a function because they are optional extras (or heavy and optional)
OPTIONAL = {
    "matplotlib",  # pyplot is imported when a plot is drawn, so importing skillit never picks a backend for the user

    "transformers", "tokenizers", "datasets", "pyarrow", "accelerate", "peft", "networkx", "wandb", "tensorboard",
            "sklearn", "tenacity", "httpx", "requests",
            "torch.utils.tensorboard"}  # needs the optional tensorboard package (report.loggers)

# the commands import what they run (the trainer: torch; statistics: scipy) inside the command, so that
# `skillit --help`, `policies`, `configs` and a config error start without them
COMMAND_MODULES = {"skillit.cli", "skillit.llm.cli", "skillit.discover.cli"}
# module -> the heavy core modules it imports inside the one function that uses them
DEFERRED = {
    "skillit.policy.ado": {"scipy.signal"},  # the policy registry (and so the config schema) loads without scipy
    "skillit.graph.skills_graph": {"scipy.sparse"},  # the sparse product; the graph (and --help) loads without scipy
    "skillit.report.stats": {"scipy"},  # the run table (imported by the CLI) loads without scipy
    # the config schema checks a plug-in learner's parameters through the learners' registry (torch), only for
    # a name that is not built in
    "skillit.graph_learners.params": {"skillit.graph_learners.registry"},
    # training.compile's backend check (check_compile): TorchInductor's compiler lookup and Triton's probe are
    # imported only by a run that compiles (torch._inductor takes seconds to import)
    "skillit.trainer.loop": {"torch._dynamo", "torch._inductor.cpp_builder", "torch.utils._triton"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).parts[0] == DATA_FOLDER:
            continue  # a shipped data set's own build script, not a skillit module
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _top_level_imports(path: Path, *, nested: bool = False) -> list[tuple[int, str]]:
    """The module-level imports; with ``nested``, the imports inside functions too."""
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree) if nested else tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_every_package_has_a_place_in_the_layers():
    packages = {_package(module) for module in _modules()}
    missing = sorted(packages - set(LAYERS))
    assert not missing, f"packages {missing} have no place in tests/test_layering.py LAYERS; add them where they belong"


def test_imports_flow_down_the_data_flow():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for module, path in _modules().items():
        here = _package(module)
        for line, imported in _top_level_imports(path, nested=module in COMMAND_MODULES):
            if imported == "skillit" or imported.startswith("skillit."):
                there = _package(imported) if imported != "skillit" else "__init__"
                if there != here and rank[there] > rank[here]:
                    upward.append(f"{path.relative_to(SRC.parent)}:{line} ({here}) imports {imported} ({there})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for _, imported in _top_level_imports(path):
            target = imported
            while target and target not in modules:  # "skillit.trainer.loop.train" → the module that defines it
                target = target.rpartition(".")[0]
            if target and target != module and target in modules and not module.startswith(target + "."):
                graph[module].add(target)  # a package's own __init__ importing its submodules is fine
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue  # __init__ → submodule
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_function_level_imports_are_only_for_optional_dependencies():
    offending = []
    for module, path in _modules().items():
        allowed = OPTIONAL | DEFERRED.get(module, set())
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for name in names:
                    if module in COMMAND_MODULES and name.split(".")[0] == "skillit":
                        continue  # a command's own imports (checked against the layers above)
                    if name.split(".")[0] not in OPTIONAL and name not in allowed:
                        offending.append(f"{path.relative_to(SRC.parent)}:{node.lineno} imports {name} inside a block")
    assert not offending, "function-level imports of core modules (move them to the top of the file):\n" + "\n".join(offending)


def test_the_lazy_integrations_names_import_transformers_only_where_needed():
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['transformers'] = None\n"  # as if transformers were not installed
        "from skillit.integrations import HFTokenizer\n"
        "from skillit.model.tokenizer import HFTokenizer as defined\n"
        "assert HFTokenizer is defined\n"
        "try:\n"
        "    from skillit.integrations import SkillMixingCallback\n"
        "except ImportError:\n"
        "    print('callback needs transformers')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "callback needs transformers"
