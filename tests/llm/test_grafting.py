"""Grafting: top-movement masks, applying a graft, mask learning, overlap graph, the CLI on tiny HF models."""

from __future__ import annotations

import json

import pytest
import torch

from skillit import CharTokenizer
from skillit.errors import DataError
from skillit.graph import SkillsGraph
from skillit.llm import grafting as gr
from skillit.llm.oracles import ALPHABET, digit_ops_task


def linear_pair():
    """y = w·x with only feature 2 informative; the fine-tuned w moved most on the useless feature 0."""
    base = torch.nn.Linear(4, 1, bias=False)
    finetuned = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        base.weight.copy_(torch.zeros(1, 4))
        finetuned.weight.copy_(torch.tensor([[5.0, 0.1, 2.0, -0.5]]))
    x = torch.zeros(8, 4)
    x[:, 2] = torch.linspace(-1, 1, 8)
    x[:, 0] = 0.0  # feature 0 never varies: moving its weight changes nothing
    y = 2.0 * x[:, 2:3]

    def loss_fn(forward):
        return ((forward(x) - y) ** 2).mean()

    def forward_loss(model):
        return -float(loss_fn(model).detach())

    return base, finetuned, loss_fn, forward_loss


def test_top_movement_mask_by_hand():
    deltas = {"a": torch.tensor([0.1, -3.0, 0.2]), "b": torch.tensor([[2.0, 0.0], [0.0, -0.15]])}
    mask = gr.top_movement_mask(deltas, 2 / 7)
    assert mask["a"].tolist() == [False, True, False] and mask["b"].tolist() == [[True, False], [False, False]]
    ties = gr.top_movement_mask({"a": torch.ones(10)}, 0.3)
    assert gr.mask_count(ties) == 3  # ties at the threshold do not inflate the mask
    assert gr.mask_fraction(mask) == pytest.approx(2 / 7)
    with pytest.raises(DataError, match="sparsity"):
        gr.top_movement_mask(deltas, 0.0)


def test_apply_graft_endpoints_and_mix():
    base, finetuned, _, _ = linear_pair()
    full = {"weight": torch.ones(1, 4, dtype=torch.bool)}
    none = {"weight": torch.zeros(1, 4, dtype=torch.bool)}
    assert torch.equal(gr.apply_graft(base, finetuned, full).weight, finetuned.weight)
    assert torch.equal(gr.apply_graft(base, finetuned, none).weight, base.weight)
    only2 = {"weight": torch.tensor([[False, False, True, False]])}
    assert gr.apply_graft(base, finetuned, only2).weight.tolist() == [[0.0, 0.0, 2.0, 0.0]]
    assert base.weight.abs().sum() == 0  # the base is not modified


def test_graft_learns_the_coordinate_that_matters():
    base, finetuned, loss_fn, score = linear_pair()
    start = gr.graft(base, finetuned, loss_fn, sparsity=0.25, steps=0, evaluate=score)
    assert start.mask["weight"].tolist() == [[True, False, False, False]]  # top movement: the useless weight
    learned = gr.graft(base, finetuned, loss_fn, sparsity=0.25, steps=5, evaluate=score)
    assert learned.mask["weight"][0, 2]  # the mask found feature 2
    assert learned.score == pytest.approx(0.0, abs=1e-9) and start.score < -0.5
    assert [h["step"] for h in learned.history][:2] == [0, 1]  # (stops early once the gradient vanishes)
    default = gr.graft(base, finetuned, loss_fn, sparsity=0.25, steps=5)  # no evaluate: minus the loss
    assert default.mask["weight"][0, 2]


def test_parameter_deltas_checks_architectures():
    with pytest.raises(DataError, match="different parameters"):
        gr.parameter_deltas(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.Linear(2, 2)))
    with pytest.raises(DataError, match="shape"):
        gr.parameter_deltas(torch.nn.Linear(2, 2), torch.nn.Linear(2, 3))
    gpt_names = set(gr.parameter_deltas(*[_tiny_gpt(s) for s in (0, 1)]))
    assert gpt_names and not any(n.startswith(("wte", "wpe", "lm_head")) for n in gpt_names)
    assert {"wte.weight", "lm_head.weight"} <= set(gr.parameter_deltas(*[_tiny_gpt(s) for s in (0, 1)], exclude=()))


def _tiny_gpt(seed):
    from skillit import GPT, GPTConfig

    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=18, block_size=16, n_layer=1, n_head=2, n_embd=16))


def test_overlap_by_hand_and_as_graph(tmp_path):
    a = {"w": torch.tensor([True, True, False, False])}
    b = {"w": torch.tensor([False, True, True, True])}
    assert gr.mask_overlap(a, b) == pytest.approx(1 / 3) and gr.mask_overlap(b, a) == pytest.approx(1 / 2)
    graph = gr.overlap_graph({"A": a, "B": b})
    assert isinstance(graph, SkillsGraph) and graph.weight("A", "B") == pytest.approx(1 / 3)
    assert graph.weight("A", "A") == 1.0
    gr.save_mask(tmp_path / "a.pt", a)
    assert torch.equal(gr.load_mask(tmp_path / "a.pt")["w"], a["w"])
    (tmp_path / "junk.pt").write_bytes(b"not a mask")
    with pytest.raises(DataError, match="not a skillit graft mask"):
        gr.load_mask(tmp_path / "junk.pt")
    with pytest.raises(DataError, match="different parameters"):
        gr.mask_overlap(a, {"v": b["w"]})


def test_graft_a_tiny_gpt_skill():
    """A fine-tuned copy of a tiny GPT: the learned graft keeps at least the top-movement score."""
    skills = digit_ops_task()
    tokenizer = CharTokenizer(ALPHABET)
    base = _tiny_gpt(0)
    base = type(base)(type(base.config)(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16))
    finetuned = type(base)(base.config)
    finetuned.load_state_dict(base.state_dict())
    examples = skills["addition"].validation[:40]
    loss_fn = gr.answer_loss(tokenizer, examples)
    optimizer = torch.optim.SGD(finetuned.parameters(), lr=0.5)
    for _ in range(15):
        optimizer.zero_grad()
        loss_fn(finetuned).backward()
        optimizer.step()
    evaluate = lambda model: -float(loss_fn(model).detach())  # noqa: E731 - smooth score for a 30-step fine-tune
    assert evaluate(finetuned) > evaluate(base)
    before = {n: p.clone() for n, p in base.state_dict().items()}
    start = gr.graft(base, finetuned, loss_fn, sparsity=0.05, steps=0, evaluate=evaluate, exclude=())
    learned = gr.graft(base, finetuned, loss_fn, sparsity=0.05, steps=3, evaluate=evaluate, exclude=())
    assert all(torch.equal(before[n], p) for n, p in base.state_dict().items())  # evaluated in place, restored
    assert learned.score >= start.score > evaluate(base)
    assert learned.score == evaluate(gr.apply_graft(base, finetuned, learned.mask))
    curve = gr.sparsity_curve(base, finetuned, loss_fn, evaluate, [0.01, 0.2], steps=0, exclude=())
    assert [row["sparsity"] for row in curve] == [0.01, 0.2]
    assert curve[1]["recovered"] > curve[0]["recovered"] > 0
    accuracy = gr.answer_accuracy(tokenizer, examples)(finetuned)
    assert 0.0 <= accuracy <= 1.0


@pytest.mark.slow
def test_graft_cli_on_tiny_hf_models(tmp_path):
    transformers = pytest.importorskip("transformers")
    from typer.testing import CliRunner

    from skillit.cli import app
    from skillit.integrations.hf import train_hf_tokenizer

    rows = [{"prompt": f"{a}+{b}=", "answer": str(a + b)} for a in range(5) for b in range(5)]
    tokenizer = train_hf_tokenizer([r["prompt"] + r["answer"] for r in rows] * 4, vocab_size=300)
    config = transformers.GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=32, n_embd=16, n_layer=1, n_head=2,
                                     bos_token_id=tokenizer.bos_id, eos_token_id=tokenizer.eos_id)
    torch.manual_seed(0)
    base = transformers.GPT2LMHeadModel(config)
    finetuned = transformers.GPT2LMHeadModel(config)
    finetuned.load_state_dict(base.state_dict())
    with torch.no_grad():
        for p in finetuned.transformer.h[0].mlp.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    for name, model in (("base", base), ("ft", finetuned)):
        model.save_pretrained(tmp_path / name)
        tokenizer.tokenizer.save_pretrained(tmp_path / name)
    data = tmp_path / "skill.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runner = CliRunner()
    result = runner.invoke(app, ["graft", "run", str(tmp_path / "base"), str(tmp_path / "ft"), "--data", str(data),
                                 "--out", str(tmp_path / "out"), "--sparsity", "0.01,0.1", "--steps", "2"])
    assert result.exit_code == 0, result.output
    curve = json.loads((tmp_path / "out" / "curve.json").read_text())
    assert [row["sparsity"] for row in curve] == [0.01, 0.1] and curve[1]["count"] > curve[0]["count"]
    result = runner.invoke(app, ["graft", "overlap", str(tmp_path / "out" / "mask_0.01.pt"),
                                 str(tmp_path / "out" / "mask_0.1.pt"), "--names", "small,large",
                                 "--out", str(tmp_path / "graph.json")])
    assert result.exit_code == 0, result.output
    graph = SkillsGraph.load(tmp_path / "graph.json")
    assert graph.weight("large", "small") == pytest.approx(1.0)  # the top-movement start is nested
    result = runner.invoke(app, ["graft", "run", str(tmp_path / "base"), str(tmp_path / "nope"), "--data", str(data),
                                 "--out", str(tmp_path / "out2")])
    assert result.exit_code == 2 and "does not exist" in result.output and not (tmp_path / "out2").exists()
