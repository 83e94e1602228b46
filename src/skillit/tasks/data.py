"""The ``data`` task: your own JSONL or Parquet files as skills (the options: :class:`skillit.skills.io.spec.DataSpec`).

    task:
      name: data
      params:
        train: data/train.jsonl          # relative paths: against the config file's folder, then the
        validation: data/test.jsonl      #   current directory
        skill_column: skill
        prompt_field: prompt
        answer_field: answer
        separator: " "
        max_examples: 2000               # optional: the first 2000 training examples per skill ...
        max_examples_per_skill: {scripture: 100}   #   ... except these skills' own caps
        max_length: 256                  # optional: examples longer than 256 tokens ...
        too_long: drop                   #   ... are dropped (or truncate, or error)
        prerequisites: data/prerequisites.json   # optional: {skill: [skills it needs]}, for `graph: prerequisites`
        junk: [{name: junk_shuffled, source: drama, kind: shuffle_chars}]   # optional: junk skills (tasks/junk.py)

A path ``skillit-data:NAME/FILE`` names a data set that ``skillit data fetch NAME`` generates into the data
folder (``$SKILLIT_DATA``, default ``~/.cache/skillit/data``; :mod:`skillit.tasks.corpora`).

Relative paths are made absolute when the config is loaded (:func:`resolve_paths`), so a run
directory's ``config.yaml`` still finds the data when the run is resumed from another folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import Field

from skillit.errors import DataError, GraphError
from skillit.graph.skills_graph import SkillsGraph
from skillit.skills import SkillSet
from skillit.skills.io import DataSpec, load_spec
from skillit.tasks import corpora
from skillit.tasks.junk import JunkSpec, add_junk


class DataParams(DataSpec):
    """Parameters of the ``data`` task (the ``task.params`` block of a config): the source's
    :class:`~skillit.skills.io.spec.DataSpec` (declared there once, shared with the loader and
    ``skillit data inspect``) and the task's own keys."""

    prerequisites: str | None = Field(
        None, description="JSON {skill: [skills it needs]}: the known graph behind `graph: prerequisites`"
    )
    junk: list[JunkSpec] | None = Field(
        None, description="junk skills made from loaded ones: [{name, source, kind: shuffle_chars|cipher|"
        "repeat_line, seed}] (skillit.tasks.junk)")


PATH_KEYS = ("train", "validation", "cache_dir", "prerequisites")


def resolve_paths(params: dict, base_dir: Path) -> dict:
    """``params`` with relative file paths made absolute: against ``base_dir`` (the config's folder) if the
    file exists there, else against the current directory if it exists there, else against ``base_dir``
    (so the error names the place the config points at). ``skillit-data:NAME/FILE`` becomes the file in the
    data folder (:func:`skillit.tasks.corpora.data_root`)."""
    out = dict(params)
    for key in PATH_KEYS:
        value = out.get(key)
        generated = corpora.resolve_uri(value) if isinstance(value, str) else None
        if generated is not None:
            out[key] = generated
            continue
        if not isinstance(value, str) or not value or Path(value).expanduser().is_absolute():
            if isinstance(value, str) and value.startswith("~"):
                out[key] = str(Path(value).expanduser())
            continue
        beside_config = (base_dir / value).resolve()
        in_cwd = Path(value).resolve()
        if key != "cache_dir" and not beside_config.exists() and in_cwd.exists():
            out[key] = str(in_cwd)
        else:
            out[key] = str(beside_config)
    return out


def build(params: DataParams, seed: int) -> SkillSet:
    """Load the files as skills. ``seed`` is not used: the data and its holdout split are fixed across seeds."""
    del seed
    for key in ("train", "validation"):
        value = getattr(params, key)
        if value is not None and not Path(value).is_file():
            raise DataError(missing_file_message(key, value))
    skillset = load_spec(params, where="task.params.skills")
    return add_junk(skillset, params.junk) if params.junk else skillset


def missing_file_message(key: str, value: str) -> str:
    """``task.params.KEY: data file ... does not exist``, and how to get it when skillit knows the file."""
    hint = corpora.missing_hint(value)
    return (f"task.params.{key}: data file {value!r} does not exist; "
            + (hint if hint else "relative paths are resolved against the config file's folder, then the current directory"))


def missing_files(params: dict) -> list[tuple[str, str]]:
    """``(key, path)`` of every data file named in (resolved) ``params`` that does not exist."""
    return [(key, value) for key in ("train", "validation", "prerequisites")
            if isinstance(value := params.get(key), str) and value and not Path(value).is_file()]


def prerequisite_graph(params: DataParams) -> SkillsGraph:
    """The known graph of ``params.prerequisites``, a JSON adjacency list ``{skill: [skills it needs]}``.

    Like the synthetic tasks' planted graphs (an edge from every ancestor): ``A[i, j] = 1`` when skill i is a
    direct or transitive prerequisite of skill j (the transitive closure; "B needs A" and "C needs B" give
    A→C), and ``A[i, i] = 1``. Rows and columns are every skill the file names, in file order; a policy
    restricts them to its training and objective skills by name.
    """
    if params.prerequisites is None:
        raise GraphError(
            "graph 'prerequisites' needs the data task's prerequisites file: set task.params.prerequisites to a "
            "JSON file {skill: [skills it needs]}"
        )
    path = Path(params.prerequisites)
    if not path.is_file():
        raise GraphError(missing_file_message("prerequisites", str(path)))
    try:
        needs = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise GraphError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(needs, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in needs.values()
    ):
        raise GraphError(f"{path}: expected a JSON object {{skill: [skills it needs]}}")
    return closure_graph(needs, source=str(path))


def closure_graph(needs: dict[str, list[str]], *, source: str = "prerequisites") -> SkillsGraph:
    """``A[i, j] = 1`` when i is a direct or transitive prerequisite of j, and on the diagonal."""
    names = list(needs)
    for required in needs.values():
        for name in required:
            if name not in names:  # named only as a prerequisite
                names.append(name)
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))  # (k, k): rows = prerequisite, columns = the skill that needs it
    for j, name in enumerate(names):
        stack, seen = list(needs.get(name, [])), set()
        while stack:  # every ancestor of j
            parent = stack.pop()
            if parent in seen:
                continue
            seen.add(parent)
            matrix[index[parent], j] = 1.0
            stack.extend(needs.get(parent, []))
    return SkillsGraph(matrix, names, names, provenance={"source": f"prerequisites (transitive closure) of {source}"})
