"""`model: {kind: hf}`: Hugging Face causal LMs in skillit's own loop, from a config file alone.

Tiny models built here (1 layer, width 32) and saved with save_pretrained into a temporary folder, a
byte-level BPE tokenizer trained offline, a two-skill JSONL data set (add, rev); the CLI runs in-process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import random
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

pytest.importorskip("transformers")

from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from skillit.cli import app  # noqa: E402
from skillit.errors import CheckpointError, ConfigError  # noqa: E402
from skillit.experiment.build import build_model, build_tokenizer, task_skillset  # noqa: E402
from skillit.experiment.config import (  # noqa: E402
    ModelConfig,
    dump_config,
    estimated_memory_bytes,
    load_config,
    memory_estimate,
    parse_config,
)
from skillit.experiment.hf_size import hf_parameter_count  # noqa: E402
from skillit.experiment.runner import run_experiment  # noqa: E402
from skillit.model import CharTokenizer  # noqa: E402
from skillit.model.hf import HFCausalLM, train_bpe_tokenizer  # noqa: E402
from skillit.policy import Stratified  # noqa: E402
from skillit.trainer.loop import TrainConfig, check_precision, train  # noqa: E402

GPT2 = {"model_type": "gpt2", "n_layer": 1, "n_embd": 32, "n_head": 2}
LLAMA = {"model_type": "llama", "num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
         "num_key_value_heads": 2, "intermediate_size": 64}
TRAINING = "{steps: 12, batch_size: 8, round_steps: 4, eval_every: 4, warmup_steps: 2, lr: 0.003, checkpoint_every: 3}"


def rows(rng: random.Random, n: int):
    for _ in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        yield {"skill": "add", "prompt": f"{a} plus {b} is", "answer": f" {a + b}"}
        word = "".join(rng.choice("abcdef") for _ in range(4))
        yield {"skill": "rev", "prompt": f"reverse {word}:", "answer": f" {word[::-1]}"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """data/{train,val}.jsonl, tok/ (a BPE tokenizer), gpt2/ and llama/ (causal-LM checkpoints with it),
    gpt2-base/ (a GPT2Model: no head) and big/ (more tokens than gpt2/'s vocab_size)."""
    base = tmp_path_factory.mktemp("hf")
    rng = random.Random(0)
    (base / "data").mkdir()
    for name, n in (("train", 60), ("val", 6)):
        (base / "data" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows(rng, n)))
    texts = [t for r in rows(random.Random(1), 200) for t in (r["prompt"], r["answer"])]
    tok = train_bpe_tokenizer(texts, vocab_size=300)
    tok.tokenizer.save_pretrained(base / "tok")
    for name, params in (("gpt2", GPT2), ("llama", LLAMA)):
        torch.manual_seed(0)
        config = AutoConfig.for_model(**params, vocab_size=tok.vocab_size, max_position_embeddings=64)
        AutoModelForCausalLM.from_config(config).save_pretrained(base / name)
        tok.tokenizer.save_pretrained(base / name)
    AutoModel.from_config(AutoConfig.for_model(**GPT2, vocab_size=tok.vocab_size)).save_pretrained(base / "gpt2-base")
    tok.tokenizer.save_pretrained(base / "gpt2-base")
    train_bpe_tokenizer(texts * 3 + [f"w{i}" for i in range(400)], vocab_size=700).tokenizer.save_pretrained(base / "big")
    return base


def config_text(model: str, *, name: str = "hf", training: str = TRAINING, extra: str = "") -> str:
    return (f"name: {name}\ntask: {{name: data, params: {{train: data/train.jsonl, validation: data/val.jsonl}}}}\n"
            f"model: {model}\ntraining: {training}\n"
            "methods:\n  skill-it: {params: {graph: identity, eta: 0.5}}\n  stratified: {}\nseeds: [0]\n" + extra)


LOCAL_GPT2 = "{kind: hf, path: gpt2}"
NEW_LLAMA = "{kind: hf, config: %s, tokenizer: {train: bpe, vocab_size: 300}}" % json.dumps(LLAMA)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def snapshot(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*"))}


def strip_seconds(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in records]


def metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


# ---- the schema --------------------------------------------------------------------------------------
def test_a_config_without_kind_is_the_gpt_and_dumps_as_before():
    text = config_text("{n_layer: 1, n_head: 2, n_embd: 16}")
    config = parse_config(text)
    assert isinstance(config.model, ModelConfig) and config.model.kind == "gpt"
    dumped = dump_config(config)
    assert "precision" not in dumped  # fp32 (the default) leaves config.yaml as it was
    assert "model:\n  kind: gpt\n  n_layer: 1\n  n_head: 2\n  n_embd: 16\n  block_size: null\n" in dumped
    assert parse_config(dumped) == config


@pytest.mark.parametrize(("model", "message"), [
    ("{kind: hf}", "model: give either path (a checkpoint folder) or config"),
    ("{kind: hf, path: a, config: {model_type: gpt2}}", "model: give either path (a checkpoint folder) or config "
                                                        "({model_type: ..., ...}: a new architecture), not both"),
    ("{kind: hf, config: {n_layer: 1}, tokenizer: t}", "model: config needs model_type"),
    ("{kind: hf, config: {model_type: gpt2}}", "model: a new architecture (config) needs a tokenizer"),
    ("{kind: hf, path: a, n_layer: 2}", "model.n_layer: unknown key 'n_layer'; remove it or check its spelling; "
                                        "choices: kind, path, config, tokenizer, block_size"),
    ("{kind: hf, path: a, tokenizer: {train: wordpiece, vocab_size: 300}}", "model.tokenizer.train: Input should be 'bpe'"),
    ("{kind: hf, path: a, tokenizer: {train: bpe, vocab_size: 100}}", "model.tokenizer.vocab_size: Input should be "
                                                                      "greater than or equal to 260"),
    ("{kind: banana}", "model: kind must be gpt (skillit's GPT; the default) or hf"),
    ("{n_layr: 2}", "model.n_layr: unknown key 'n_layr'; remove it or check its spelling; did you mean 'n_layer'?"),
])
def test_bad_model_sections_name_the_key_and_line(model, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text(model), source="c.yaml")
    assert f"c.yaml:3: {message}" in str(caught.value)


# ---- the model ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [GPT2, LLAMA], ids=["gpt2", "llama"])
def test_padding_does_not_change_the_logits_of_real_tokens(params):
    torch.manual_seed(0)
    model = HFCausalLM(AutoModelForCausalLM.from_config(AutoConfig.for_model(**params, vocab_size=50)))
    model.eval()
    ids = torch.tensor([[1, 7, 8, 9, 2]])
    padded = torch.tensor([[1, 7, 8, 9, 2, 0, 0], [1, 5, 2, 0, 0, 0, 0]])
    mask = (torch.arange(7) < torch.tensor([[5], [3]])).long()
    alone = model(ids).logits
    together = model(padded, attention_mask=mask).logits
    assert torch.allclose(together[0, :5], alone[0], atol=1e-6)
    assert model.get_output_embeddings() is model.model.lm_head


def test_a_new_architecture_is_seeded_and_sized_by_its_tokenizer_and_context(folder, monkeypatch):
    monkeypatch.chdir(folder)
    config = parse_config(config_text(NEW_LLAMA))
    full = task_skillset(config, 0)
    tokenizer = build_tokenizer(config, full)
    assert (tokenizer.pad_id, tokenizer.bos_id, tokenizer.eos_id) == (0, 1, 2)
    assert build_tokenizer(config, full) is tokenizer  # trained once per process for the same texts
    a, b, c = (build_model(config, tokenizer, 24, seed) for seed in (0, 0, 1))
    assert a.config.vocab_size == tokenizer.vocab_size and a.config.max_position_embeddings == 24
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.model.lm_head.weight, c.model.lm_head.weight)


# ---- the memory estimate -----------------------------------------------------------------------------
def test_the_memory_estimate_counts_the_parameters_of_a_checkpoint_and_of_a_new_architecture(folder, tmp_path):
    # GPT-2 (d 32, 1 layer, inner 4·32 = 128, 64 positions, head tied): V·32 + 64·32 + (3·32² + 3·32 [c_attn]
    # + 32² + 32 [attn c_proj] + 32·128 + 128 [c_fc] + 128·32 + 32 [mlp c_proj] + 4·32 [2 LayerNorms]) + 2·32 [ln_f]
    vocab = json.loads((folder / "gpt2" / "config.json").read_text())["vocab_size"]
    gpt2 = parse_config(config_text(LOCAL_GPT2), config_dir=folder)  # the relative path read from config_dir
    assert memory_estimate(gpt2, folder).parameters == vocab * 32 + 2048 + 12704 + 64
    assert vocab * 32 + 2048 + 12704 + 64 == sum(
        p.numel() for p in AutoModelForCausalLM.from_pretrained(folder / "gpt2").parameters())
    assert memory_estimate(gpt2, tmp_path) == (0, None, "a Hugging Face model whose config is not readable here")

    # Llama (d 32, 2 heads of 16, 2 kv heads, inner 64, head untied), the declared BPE size V = 300:
    # 300·32 [embedding] + (4·32² [q k v o] + 3·32·64 [gate up down] + 2·32 [2 RMSNorms]) + 32 [norm] + 300·32 [head]
    config = parse_config(config_text(NEW_LLAMA.replace("tokenizer:", "block_size: 16, tokenizer:")))  # batch 8
    params = 9600 + (4096 + 6144 + 64) + 32 + 9600
    assert memory_estimate(config).parameters == params == 29536 == sum(p.numel() for p in AutoModelForCausalLM.from_config(
        AutoConfig.for_model(**LLAMA, vocab_size=300)).parameters())
    # 8 × 16 = 128 tokens: per token per layer 8·32 + 2·64 + 2·2·16 = 448 values at 4 bytes, logits 2·300 floats
    assert estimated_memory_bytes(config) == 16 * params + 4 * 128 * 448 + 8 * 128 * 300 == 1_009_152
    bf16 = parse_config(config_text(NEW_LLAMA.replace("tokenizer:", "block_size: 16, tokenizer:"),
                                    training=TRAINING.replace("}", ", precision: bf16}")))
    assert estimated_memory_bytes(bf16) == 18 * params + 2 * 128 * 448 + 8 * 128 * 300  # + bf16 weights, 2-byte values
    # skillit's GPT as before at fp32: 16·(12·L·d² + T·d) + 4·B·T·L·(16·d + 2·h·T)
    gpt = parse_config(config_text("{n_layer: 1, n_head: 2, n_embd: 16, block_size: 8}",
                                   training=TRAINING.replace("batch_size: 8", "batch_size: 4")))
    assert estimated_memory_bytes(gpt) == 16 * (12 * 256 + 8 * 16) + 4 * 4 * 8 * (16 * 16 + 2 * 2 * 8) == 88_064


def test_a_model_too_big_for_the_machine_is_refused_before_its_weights_are_read(folder, monkeypatch, tmp_path):
    """A 'checkpoint' whose config.json describes a 1.3-trillion-parameter Llama (and no weights at all): the
    config is refused when it is read, naming the model and the sizes; nothing is loaded or written."""
    big = tmp_path / "huge"
    big.mkdir()
    huge = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 65536,
            "num_hidden_layers": 64, "num_attention_heads": 64, "num_key_value_heads": 64, "intermediate_size": 65536,
            "vocab_size": 300, "max_position_embeddings": 64, "tie_word_embeddings": False}
    (big / "config.json").write_text(json.dumps(huge))
    params = 2 * 300 * 65536 + 64 * (4 * 65536**2 + 3 * 65536**2 + 2 * 65536) + 65536
    assert hf_parameter_count(huge) == params
    monkeypatch.chdir(folder)
    (folder / "huge.yaml").write_text(config_text("{kind: hf, path: %s, tokenizer: tok}" % big))
    before = snapshot(folder)
    result = invoke("run", "huge.yaml", "--out", "huge-out", "--jobs", "1")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert (f"this model and batch need about {16 * params / 2**30:,.1f} GiB (llama of model.path '{big}': "
            f"{params:,} parameters, 64 layers × 65536, vocabulary 300, block_size=None, training.batch_size=8, "
            "precision=fp32), more than the machine's") in said, said
    assert snapshot(folder) == before
    # a new architecture of that size: the same refusal, its defaults filled by transformers (no weights drawn)
    with pytest.raises(ConfigError, match="about .* GiB \\(llama of model.config: 1,"):
        parse_config(config_text("{kind: hf, config: %s, tokenizer: tok}" % json.dumps(
            {k: v for k, v in huge.items() if k not in ("architectures", "vocab_size")})), config_dir=folder)


# ---- the commands ------------------------------------------------------------------------------------
def test_skillit_run_and_graph_on_a_local_gpt2_checkpoint(folder, monkeypatch):
    monkeypatch.chdir(folder)
    (folder / "gpt2.yaml").write_text(config_text(LOCAL_GPT2, name="gpt2-run", extra=(
        "graph_learning: {method: linear, params: {steps: 2, base_steps: 1, eval_every: 2}}\n")))
    result = invoke("run", "gpt2.yaml", "--out", "gpt2-out", "--jobs", "1")
    assert result.exit_code == 0, result.output
    records = metrics(folder / "gpt2-out")
    assert [r["step"] for r in records if r["method"] == "skill-it"] == [0, 4, 8, 12]
    final = records[-1]
    assert set(final["losses"]) == {"add", "rev"} and final["losses"]["add"] < records[0]["losses"]["add"]
    summary = json.loads((folder / "gpt2-out" / "summary.json").read_text())
    assert summary  # the whole run directory was written, report included
    saved = json.loads((folder / "gpt2-out" / "runs" / "stratified__seed0.json").read_text())
    assert saved["parameters"] == sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(folder / "gpt2").parameters())

    result = invoke("graph", "gpt2.yaml", "--out", "gpt2-graph", "--jobs", "1")
    assert result.exit_code == 0, result.output
    graph = json.loads((folder / "gpt2-graph" / "graph.json").read_text())
    assert graph["train_skills"] == ["add", "rev"] and len(graph["matrix"]) == 2
    assert graph["cost"]["train_steps"] == 1 + 2 * 2  # base + k runs of h steps


class Interrupt(Exception):
    pass


def interrupt_at_step_8(config, cut: Path, folder: Path) -> None:
    """Run ``config`` into ``cut`` and stop it when skill-it seed 0 logs step 8 (its checkpoint is at step 6)."""
    def stop(run: str, event: dict) -> None:
        if run == "skill-it__seed0" and "losses" in event and event["step"] == 8:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_experiment(config, cut, config_dir=folder, on_event=stop)


@pytest.mark.parametrize(("case", "model", "precision"), [("gpt2", LOCAL_GPT2, "fp32"), ("llama-bf16", NEW_LLAMA, "bf16")])
def test_an_interrupted_run_resumes_with_identical_records(folder, monkeypatch, case, model, precision):
    """Stopped at step 8 of the first run (its checkpoint at step 6, mid-round), `skillit run --resume`
    redoes steps 7-8 and writes the records of an uninterrupted run, bit for bit (timings aside)."""
    monkeypatch.chdir(folder)
    training = TRAINING.replace("}", f", precision: {precision}}}")
    path = folder / f"resume-{case}.yaml"
    path.write_text(config_text(model, name=f"resume-{case}", training=training))
    config = load_config(path)  # paths resolved against the config's folder, as `skillit run` does
    assert config.training.precision == precision
    straight, cut = folder / f"straight-{case}", folder / f"cut-{case}"
    assert invoke("run", path.name, "--out", straight.name, "--jobs", "1").exit_code == 0
    interrupt_at_step_8(config, cut, folder)
    assert not (cut / "metrics.jsonl").exists()
    assert torch.load(cut / "checkpoints" / "skill-it__seed0" / "checkpoint.pt", weights_only=False)["step"] == 6
    result = invoke("run", "--resume", cut.name, "--jobs", "1")
    assert result.exit_code == 0, result.output
    resumed = metrics(cut)
    assert strip_seconds(resumed) == strip_seconds(metrics(straight))
    assert len({tuple(r["weights"].values()) for r in resumed if r["method"] == "skill-it"}) > 1  # it really moves


def test_bf16_autocast_trains_close_to_fp32_and_fp16_is_refused_on_the_cpu(tiny_lego, tiny_model_factory):
    with pytest.raises(ConfigError, match="training.precision: fp16 runs on a GPU"):
        check_precision("fp16", "cpu")
    with pytest.raises(ConfigError, match="training.precision must be one of fp32, bf16, fp16"):
        TrainConfig(steps=1, precision="fp8")  # type: ignore[arg-type]
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    runs = {}
    for precision in ("fp32", "bf16"):
        config = TrainConfig(steps=8, batch_size=8, round_steps=4, eval_every=4, lr=3e-3, warmup_steps=2,
                             precision=precision)
        runs[precision] = train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config).final["losses"]
    assert runs["fp32"] != runs["bf16"]  # autocast really ran the forward pass in bfloat16
    assert runs["bf16"] == pytest.approx(runs["fp32"], abs=0.05)  # ... and trained the same model


def test_fp16_scales_the_loss_and_its_scaler_state_resumes_exactly(tiny_lego, tiny_model_factory, tmp_path,
                                                                   monkeypatch):
    """The GradScaler path (what fp16 runs on a GPU), exercised on the CPU with the CPU refusal switched off:
    an interrupted run resumed from its checkpoint (scaler state included) equals an uninterrupted one."""
    import skillit.trainer.loop as loop

    monkeypatch.setattr(loop, "check_precision", lambda precision, device: None)
    tok = CharTokenizer(tiny_lego.metadata["alphabet"])
    config = TrainConfig(steps=8, batch_size=8, round_steps=4, eval_every=2, lr=3e-3, warmup_steps=2,
                         checkpoint_every=3, precision="fp16")
    full = train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config)

    class Stop(loop.TrainerCallback):
        def on_step_end(self, step, loss):
            if step == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config, callbacks=[Stop()], checkpoint_dir=tmp_path)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["config"]["precision"] == "fp16" and saved["scaler"]["scale"] > 1  # the loss is scaled
    resumed = train(tiny_model_factory(tok, seed=9), tok, tiny_lego, Stratified(), config, checkpoint_dir=tmp_path,
                    resume=True)
    assert strip_seconds(resumed.records) == strip_seconds(full.records)
    with pytest.raises(CheckpointError, match="saved with training.precision='fp16', this run has 'bf16'"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), dataclasses.replace(config, precision="bf16"),
              checkpoint_dir=tmp_path, resume=True)
    del saved["config"]["precision"]  # a checkpoint written before training.precision existed: fp32
    torch.save(saved, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="saved with training.precision='fp32', this run has 'fp16'"):
        train(tiny_model_factory(tok), tok, tiny_lego, Stratified(), config, checkpoint_dir=tmp_path, resume=True)


# ---- bad input: one message, exit 2, nothing written ---------------------------------------------------
BAD = [
    ("missing-path", "{kind: hf, path: no-such-model}",
     "bad.yaml:3: model.path: 'no-such-model' is not a folder on this machine; give the folder that "
     "save_pretrained wrote"),
    ("missing-tokenizer", "{kind: hf, path: gpt2, tokenizer: nowhere}",
     "bad.yaml:3: model.tokenizer: 'nowhere' is not a folder on this machine"),
    ("not-a-model-folder", "{kind: hf, path: data}", "holds no config.json, so it is not a model folder"),
    ("no-causal-lm-head", "{kind: hf, path: gpt2-base}",
     "the checkpoint is a GPT2Model (config.json 'architectures'), which has no causal-LM head"),
    ("vocabulary-mismatch", "{kind: hf, path: gpt2, tokenizer: big}",
     "model.tokenizer: the tokenizer 'big' has {big} tokens but the model of 'gpt2' has "
     "vocab_size {tok} (rows of its embedding): token ids from {tok} up would index past it"),
    ("vocabulary-mismatch-config", "{kind: hf, config: {model_type: llama, vocab_size: 100, hidden_size: 32, "
     "num_attention_heads: 2, num_hidden_layers: 1}, tokenizer: tok}",
     "has {tok} tokens but model.config has vocab_size 100"),
    ("no-causal-model-type", "{kind: hf, config: {model_type: t5}, tokenizer: tok}",
     "model.config.model_type: 't5' is not a transformers model type with a causal-LM head"),
    ("context-too-long", "{kind: hf, path: gpt2, block_size: 100}",
     "the run needs a context of 100 tokens (model.block_size, or the longest example + 8) but the model of "
     "'gpt2' takes at most 64 (max_position_embeddings)"),
    ("fp16-on-cpu", LOCAL_GPT2, "bad.yaml:4: training.precision: fp16 runs on a GPU (device: cuda), not on the CPU"),
]


@pytest.mark.parametrize(("case", "model", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_bad_hf_input_is_one_message_exit_2_and_nothing_written(folder, monkeypatch, case, model, message):
    monkeypatch.chdir(folder)
    training = TRAINING.replace("}", ", precision: fp16}") if case == "fp16-on-cpu" else TRAINING
    (folder / "bad.yaml").write_text(config_text(model, training=training))
    before = snapshot(folder)
    for command in (["run", "bad.yaml", "--out", "bad-out", "--jobs", "1"], ["graph", "bad.yaml", "--out", "bad-graph"]):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        sizes = {name: len(AutoTokenizer.from_pretrained(folder / name)) for name in ("tok", "big")}
        assert message.format(folder=folder, **sizes) in " ".join(result.output.split()), result.output
        assert snapshot(folder) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize(("device", "precision", "message"), [
    ("cuda", "fp32", "device 'cuda' requested but CUDA is not available; use device: cpu or auto"),
    ("auto", "fp16", "training.precision: fp16 runs on a GPU (device: cuda), not on the CPU"),
])
def test_cuda_without_cuda_and_fp16_on_auto_are_refused_before_anything_is_written(folder, monkeypatch, device,
                                                                                    precision, message):
    monkeypatch.chdir(folder)
    training = TRAINING.replace("}", f", precision: {precision}}}")
    (folder / "bad.yaml").write_text(config_text(LOCAL_GPT2, training=training, extra=f"device: {device}\n"))
    before = snapshot(folder)
    for command in (["run", "bad.yaml", "--out", "bad-out", "--jobs", "1"], ["graph", "bad.yaml", "--out", "bad-graph"]):
        result = invoke(*command)
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
        assert snapshot(folder) == before


def test_the_your_model_section_of_the_stacks_page_holds_configs_that_load(tmp_path, monkeypatch):
    """docs/stacks.md "Your model": its script makes the stand-in checkpoint and both configs load and plan (the
    model, its tokenizer and the context checked) with it; the measured runs are the docs' own figures."""
    from skillit.experiment.plan import validate_experiment
    from tests.plugin_helpers import DOCS, code_blocks, section

    text = section(DOCS / "stacks.md", "Your model")
    script, = code_blocks(text, "python")
    configs = code_blocks(text, "yaml")
    assert len(configs) == 3
    monkeypatch.chdir(tmp_path)
    exec(compile(script, "docs/stacks.md", "exec"), {"__name__": "stacks_md"})
    loaded = {}
    for index, block in enumerate(configs):
        (tmp_path / f"c{index}.yaml").write_text(block.replace("steps: 100", "steps: 4"))
        config = load_config(tmp_path / f"c{index}.yaml")
        assert config.model.kind == "hf"
        if config.model.lora is None or importlib.util.find_spec("peft") is not None:  # lora: the lora extra
            validate_experiment(config, tmp_path)
        loaded[config.name] = config
    assert list(loaded) == ["my-gpt2", "my-llama", "my-gpt2-lora"]
    llama = loaded["my-llama"]
    assert llama.training.precision == "bf16" and llama.model.tokenizer.vocab_size == 512


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_with_identical_records(folder, tmp_path):
    """`skillit run` in a real process, SIGKILLed once its first checkpoint exists (a new Llama, bf16): the
    resumed run's records equal an uninterrupted run's, bit for bit (timings aside)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    training = TRAINING.replace("}", ", precision: bf16}").replace("steps: 12", "steps: 24")
    path = tmp_path / "kill.yaml"
    path.write_text(config_text(NEW_LLAMA, name="kill", training=training).replace("data/", f"{folder}/data/"))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}

    def skillit(*args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "skillit", *args, "--jobs", "1"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def finish(process: subprocess.Popen) -> None:
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output[-3000:]

    finish(skillit("run", "kill.yaml", "--out", "straight"))
    process = skillit("run", "kill.yaml", "--out", "killed")
    checkpoint = tmp_path / "killed" / "checkpoints" / "skill-it__seed0" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file():
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint before the run ended"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert not (tmp_path / "killed" / "metrics.jsonl").exists()
    finish(skillit("run", "--resume", "killed"))
    assert strip_seconds(metrics(tmp_path / "killed")) == strip_seconds(metrics(tmp_path / "straight"))
