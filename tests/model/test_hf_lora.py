"""LoRA adapters on a Hugging Face causal LM (``model: {kind: hf, path: DIR, lora: {...}}``, skillit.model.hf).

Tiny GPT-2 checkpoints (1 layer × 32, a 300-token BPE) saved with save_pretrained into a tmp folder; every
command goes through the same CLI as the full-model tests (tests/model/test_hf_model.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("peft")

from skillit.errors import ConfigError  # noqa: E402
from skillit.experiment.build import build_model, build_seed_data  # noqa: E402
from skillit.experiment.config import load_config, parse_config  # noqa: E402
from skillit.model.hf import lora_parameters  # noqa: E402
from skillit.trainer.optim import build_optimizer  # noqa: E402
from skillit.trainer.signals import output_layer  # noqa: E402
from tests.model import test_hf_model  # noqa: E402
from tests.model.test_hf_model import (  # noqa: E402
    TRAINING,
    config_text,
    interrupt_at_step_8,
    invoke,
    metrics,
    snapshot,
    strip_seconds,
)

folder = test_hf_model.folder  # the module-scoped fixture: data/, tok/, gpt2/ and llama/ checkpoints

LORA_GPT2 = "{kind: hf, path: gpt2, lora: {r: 4, alpha: 8, target_modules: [c_attn]}}"
# GPT-2's c_attn is a Conv1D 32 → 96 (q, k, v): A is r × 32, B is 96 × r, one layer
C_ATTN_ADAPTER = 4 * 32 + 96 * 4  # 512


def lora_config(folder: Path, model: str = LORA_GPT2, **kwargs):
    path = folder / "lora.yaml"
    path.write_text(config_text(model, name="lora", **kwargs))
    return load_config(path)


# ---- the model -------------------------------------------------------------------------------------
def test_only_the_adapters_train_and_the_adapted_model_starts_as_the_checkpoint(folder):
    config = lora_config(folder)
    data = build_seed_data(config, 0)
    model = build_model(config, data.tokenizer, data.block_size, 0)
    trainable = {name: p.numel() for name, p in model.named_parameters() if p.requires_grad}
    assert sorted(trainable) == ["model.base_model.model.transformer.h.0.attn.c_attn.lora_A.default.weight",
                                 "model.base_model.model.transformer.h.0.attn.c_attn.lora_B.default.weight"]
    assert sum(trainable.values()) == C_ATTN_ADAPTER == model.num_parameters(trainable_only=True)
    optimizer = build_optimizer(model, lr=0.01, weight_decay=0.1)
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in model.parameters() if p.requires_grad}
    # the meta-device count the plan prints is the real model's
    assert lora_parameters(config.model, data.tokenizer, data.block_size) == (
        C_ATTN_ADAPTER, model.num_parameters(), ["c_attn"])

    # B = 0: the adapted model computes the checkpoint's logits; a step moves the adapters only
    from transformers import AutoModelForCausalLM
    plain = AutoModelForCausalLM.from_pretrained(folder / "gpt2")
    ids = torch.tensor([data.tokenizer.encode("12 plus 30 is 42")])
    assert torch.equal(model(ids).logits, plain(input_ids=ids).logits)
    frozen = {name: p.detach().clone() for name, p in model.named_parameters() if not p.requires_grad}
    adapters = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
    loss = torch.nn.functional.cross_entropy(model(ids[:, :-1]).logits.flatten(0, 1), ids[:, 1:].flatten())
    loss.backward()
    optimizer.step()
    for name, p in model.named_parameters():
        if name in frozen:
            assert torch.equal(p, frozen[name]) and p.grad is None, name
    assert not torch.equal(dict(model.named_parameters())[next(n for n in adapters if "lora_B" in n)],
                           adapters[next(n for n in adapters if "lora_B" in n)])


def test_default_targets_follow_the_architecture_and_an_adapted_output_layer_is_still_tapped(folder):
    config = lora_config(folder, "{kind: hf, path: llama, lora: {r: 2}}")
    data = build_seed_data(config, 0)
    trainable, total, targets = lora_parameters(config.model, data.tokenizer, data.block_size)
    assert targets == ["q_proj", "v_proj"]  # peft's default for Llama
    assert trainable == 2 * (2 * 32 + 32 * 2)  # q and v: 32 → 32 each, r = 2

    config = lora_config(folder, "{kind: hf, path: gpt2, lora: {r: 2, target_modules: [lm_head]}}")
    model = build_model(config, data.tokenizer, build_seed_data(config, 0).block_size, 0)
    layer = output_layer(model)
    assert type(layer) is torch.nn.Linear and layer is model.model.base_model.model.lm_head.base_layer


# ---- the commands ------------------------------------------------------------------------------------
def test_skillit_run_and_graph_with_lora_train_the_adapters_and_report_their_share(folder, monkeypatch):
    """`skillit run` with two methods, one steered by the output-layer gradient statistics (dga-lastlayer: the output layer is
    frozen, its gradient is still the closed form), one by probe gradients (dga: autograd on the adapters);
    then `skillit graph` (the linear learner) on the same config."""
    monkeypatch.chdir(folder)
    text = config_text(LORA_GPT2, name="lora-run", training=TRAINING.replace("lr: 0.003", "lr: 0.03"), extra=(
        "graph_learning: {method: linear, params: {steps: 2, base_steps: 1, eval_every: 2}}\n"))
    text = text.replace("skill-it: {params: {graph: identity, eta: 0.5}}\n  stratified: {}",
                        "dga-lastlayer: {}\n  dga: {}")
    (folder / "lora-run.yaml").write_text(text)
    result = invoke("run", "lora-run.yaml", "--out", "lora-out", "--jobs", "1")
    assert result.exit_code == 0, result.output
    total = sum(p.numel() for p in __import__("transformers").AutoModelForCausalLM.from_pretrained(
        folder / "gpt2").parameters()) + C_ATTN_ADAPTER
    assert (f"model: LoRA (r 4, alpha 8) on c_attn: 512 of {total:,} parameters train "
            f"({100 * 512 / total:.2f} %), the rest are frozen") in " ".join(result.output.split())
    for method in ("dga-lastlayer", "dga"):
        saved = json.loads((folder / "lora-out" / "runs" / f"{method}__seed0.json").read_text())
        assert saved["parameters"] == total and saved["extra"]["trainable_parameters"] == C_ATTN_ADAPTER
    records = metrics(folder / "lora-out")
    for method in ("dga-lastlayer", "dga"):
        steered = [r for r in records if r["method"] == method]
        assert [r["step"] for r in steered] == [0, 4, 8, 12]
        assert len({tuple(r["weights"].values()) for r in steered}) > 1  # the gradients moved the mixture
        assert steered[-1]["losses"]["add"] < steered[0]["losses"]["add"] - 0.01  # the adapters learn

    result = invoke("graph", "lora-run.yaml", "--out", "lora-graph", "--jobs", "1")
    assert result.exit_code == 0, result.output
    graph = json.loads((folder / "lora-graph" / "graph.json").read_text())
    assert graph["train_skills"] == ["add", "rev"] and graph["cost"]["train_steps"] == 1 + 2 * 2


def test_an_interrupted_lora_run_resumes_with_identical_records(folder, monkeypatch):
    """Stopped at step 8 (checkpoint at step 6, mid-round), `skillit run --resume` restores the adapters and
    their AdamW moments and writes the records of an uninterrupted run, bit for bit (timings aside)."""
    monkeypatch.chdir(folder)
    model = "{kind: hf, path: gpt2, lora: {r: 4, alpha: 8, dropout: 0.1}}"  # dropout: the RNG state resumes too
    training = TRAINING.replace("lr: 0.003", "lr: 0.03")
    path = folder / "resume-lora.yaml"
    path.write_text(config_text(model, name="resume-lora", training=training))
    config = load_config(path)
    straight, cut = folder / "straight-lora", folder / "cut-lora"
    assert invoke("run", path.name, "--out", straight.name, "--jobs", "1").exit_code == 0
    interrupt_at_step_8(config, cut, folder)
    saved = torch.load(cut / "checkpoints" / "skill-it__seed0" / "checkpoint.pt", weights_only=False)
    assert saved["step"] == 6
    assert sum(p.numel() for s in saved["optimizer"]["state"].values() for p in [s["exp_avg"]]) == C_ATTN_ADAPTER
    result = invoke("run", "--resume", cut.name, "--jobs", "1")
    assert result.exit_code == 0, result.output
    resumed = metrics(cut)
    assert strip_seconds(resumed) == strip_seconds(metrics(straight))
    assert len({tuple(r["weights"].values()) for r in resumed if r["method"] == "skill-it"}) > 1


# ---- bad input: one message, exit 2, nothing written ---------------------------------------------------
BAD = [
    ("no-such-layer", "{kind: hf, path: gpt2, lora: {target_modules: [q_proj, v_proj]}}",
     "model.lora.target_modules: 'q_proj' names no layer of the gpt2 model (the layers LoRA can adapt are named); "
     "did you mean 'c_proj'? (choices: wte, wpe, c_attn, c_proj, c_fc, lm_head)"),
    ("not-adaptable", "{kind: hf, path: gpt2, lora: {target_modules: [ln_1]}}",
     "model.lora.target_modules ['ln_1']: peft cannot adapt them (Target module LayerNorm("),
    ("no-default-targets", "{kind: hf, config: {model_type: ctrl, n_layer: 1, n_embd: 32, n_head: 2, dff: 64}, "
     "tokenizer: tok, lora: {r: 2}}",
     "model.lora: peft has no default target_modules for model_type 'ctrl' (Please specify `target_modules` or "
     "`target_parameters`in `peft_config`); name the layers to adapt in model.lora.target_modules, e.g. from: w, "
     "Wq, Wk, Wv, dense, lm_head"),
    ("rank-zero", "{kind: hf, path: gpt2, lora: {r: 0}}",
     "bad.yaml:3: model.lora.r: Input should be greater than or equal to 1"),
    ("unknown-key", "{kind: hf, path: gpt2, lora: {rank: 4}}",
     "bad.yaml:3: model.lora.rank: unknown key 'rank'; remove it or check its spelling; choices: r, alpha, dropout, "
     "target_modules"),
]


@pytest.mark.parametrize(("case", "model", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_a_bad_lora_setting_is_one_message_exit_2_and_nothing_written(folder, monkeypatch, case, model, message):
    monkeypatch.chdir(folder)
    (folder / "bad.yaml").write_text(config_text(model))
    before = snapshot(folder)
    for command in (["run", "bad.yaml", "--out", "bad-out", "--jobs", "1"], ["graph", "bad.yaml", "--out", "bad-graph"]):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split()), result.output
        assert snapshot(folder) == before


def test_lora_without_peft_installed_says_how_to_install_it(folder, monkeypatch):
    monkeypatch.chdir(folder)
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` raises ImportError, as when it is missing
    (folder / "bad.yaml").write_text(config_text(LORA_GPT2))
    before = snapshot(folder)
    result = invoke("run", "bad.yaml", "--out", "bad-out", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert ("model.lora needs peft, which is not installed: pip install 'skillit-mix[lora]' (in a skillit clone: "
            "pip install -e '.[lora]')") in " ".join(result.output.split()), result.output
    assert snapshot(folder) == before
    with pytest.raises(ConfigError, match="model.lora needs peft"):
        config = lora_config(folder)
        build_seed_data(config, 0)


def test_a_config_without_lora_dumps_without_the_key():
    config = parse_config(config_text("{kind: hf, path: /x/gpt2}"))
    assert "lora" not in config.model.model_dump()
    config = parse_config(config_text("{kind: hf, path: /x/gpt2, lora: {r: 4}}"))
    assert config.model.model_dump()["lora"] == {"r": 4, "alpha": 16, "dropout": 0.0, "target_modules": None}


def test_the_lora_figures_of_the_stacks_page_are_the_configs_own(tmp_path, monkeypatch):
    """docs/stacks.md "Your model": the LoRA config on the page's stand-in trains the 16,384 parameters the page
    says: per GPT-2 layer (64 wide, r 8) c_attn 8·64 + 192·8, the attention's c_proj 8·64 + 64·8, c_fc
    8·64 + 256·8 and the MLP's c_proj 8·256 + 64·8 = 8,192, times 2 layers."""
    from tests.plugin_helpers import DOCS, code_blocks, section

    text = section(DOCS / "stacks.md", "Your model")
    script, = code_blocks(text, "python")
    block, = [b for b in code_blocks(text, "yaml") if "lora:" in b]
    monkeypatch.chdir(tmp_path)
    exec(compile(script, "docs/stacks.md", "exec"), {"__name__": "stacks_md"})
    (tmp_path / "lora.yaml").write_text(block)
    config = load_config(tmp_path / "lora.yaml")
    data = build_seed_data(config, 0)
    trainable, total, targets = lora_parameters(config.model, data.tokenizer, data.block_size)
    assert trainable == 2 * ((8 * 64 + 192 * 8) + (8 * 64 + 64 * 8) + (8 * 64 + 256 * 8) + (8 * 256 + 64 * 8)) == 16_384
    printed = (f"model: LoRA (r 8, alpha 16) on {', '.join(targets)}: {trainable:,} of {total:,} parameters train "
               f"({100 * trainable / total:.2f} %), the rest are frozen")
    assert printed in " ".join(text.replace("`", "").split())
