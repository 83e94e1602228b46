"""The analysis script docs/results.md quotes (benchmarks/at_step.py), run as the docs run it, on a run
directory whose figures are known by hand."""

import subprocess
import sys
from pathlib import Path

import pytest

from skillit.records.metrics import RunRecord, write_metrics
from skillit.records.summary import summarize
from skillit.utils.io import atomic_write_json

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "at_step.py"


def run_dir(tmp_path: Path) -> Path:
    runs = []
    for seed, (loss, acc) in enumerate([(0.2, 1.0), (0.4, 0.5)]):
        records = [{"step": 0, "losses": {"a": 1.0}, "accuracies": {"a": 0.0}, "weights": {"a": 1.0}},
                   {"step": 10, "losses": {"a": loss}, "accuracies": {"a": acc}, "weights": {"a": 1.0}}]
        runs.append(RunRecord("m", seed, {}, records, 10, 1.0, 0.1, 4))
    out = tmp_path / "run"
    write_metrics(out / "metrics.jsonl", runs)
    atomic_write_json(out / "summary.json", summarize(runs, task="t", setting="pretrain", steps=10,
                                                     objective_skills=["a"], target_loss=None))
    return out


def test_at_step_prints_means_stds_and_per_seed_steps_to_a_loss(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(run_dir(tmp_path)), "--steps", "0,10",
                             "--targets", "0.3"], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["m", "0", "1.000±0.000", "0.0±", "0.0", "0.0", "0.0"]
    assert lines[3].split() == ["m", "10", "0.300±0.100", "75.0±25.0", "100.0", "50.0"]
    assert lines[-1].split() == ["m", "≤", "0.3", "10", "—"]  # seed 1 (0.4) never reaches 0.3: no mean


def test_at_step_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "not a finished run directory" in result.stderr


def _script(name):
    import importlib.util
    path = SCRIPT.parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _regroup_arena():
    return _script("regroup_arena")


def test_arena_peers_keeps_the_set_up_and_takes_the_arena_parameters():
    from skillit.experiment.config import load_config, shipped_config_path
    from skillit.report.compare import SETUP_SECTIONS

    module = _script("arena_peers")
    for benchmark in ("addition-finetune", "lego-pretrain", "ni-stance"):
        shipped = load_config(shipped_config_path(benchmark)).model_dump()
        peers = module.peer_config(benchmark, seeds=2).model_dump()
        assert list(peers["methods"]) == ["stratified", *module.PEERS]
        assert peers["methods"]["aioli"]["params"] == {"lp_rounds": 1, "lp_steps": 1}  # the arena's cheap probes
        assert peers["methods"]["doremi-online"]["reference"] == "stratified"
        assert peers["seeds"] == [0, 1]
        assert peers["methods"]["stratified"] == shipped["methods"]["stratified"]  # the board's baseline, as shipped
        # everything `skillit compare` checks before merging is as shipped
        assert all(peers[key] == shipped[key] for key in SETUP_SECTIONS)
    assert module.PEERS.index("ado-low-floor") == module.PEERS.index("ado") + 1
    alone = module.peer_config("lego-finetune", peers=("ado-low-floor",)).model_dump()["methods"]
    # a peer added later runs alone (no stratified: nothing needs it)
    assert alone == {"ado-low-floor": {"policy": "ado", "params": {"e_min": -5.0}, "reference": None, "wrappers": []}}
    assert list(module.peer_config("lego-finetune", peers=("doremi-online",)).model_dump()["methods"]) == \
        ["stratified", "doremi-online"]  # DoReMi online's reference comes with it
    with pytest.raises(SystemExit, match="unknown peer"):
        module.peer_config("lego-finetune", peers=("adoo",))
    assert module.peer_config("lego-finetune", seeds="3-4", peers=("aioli",)).seeds == [3, 4]


def test_arena_peers_refuses_bad_seeds_in_one_message_before_running(tmp_path):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "arena_peers.py"
    result = subprocess.run([sys.executable, str(script), "lego-finetune", "--seeds", "6-3", "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--seeds: the range '6-3' must go up" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


def test_arena_peers_refuses_a_folder_it_may_not_write_in_one_message(tmp_path):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "arena_peers.py"
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    result = subprocess.run([sys.executable, str(script), "lego-finetune", "--seeds", "1", "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "is not a skillit run directory" in result.stderr
    assert "Traceback" not in result.stderr and [p.name for p in (tmp_path / "o").iterdir()] == ["notes.txt"]


def test_graph_recovery_refuses_an_out_holding_another_set_up_in_one_message(tmp_path):
    # --out holds the work folder of another learner: refused by the learner's manifest check, before any training
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "graph_recovery.py"
    work = tmp_path / "o" / "lego-graph" / "probe" / "work"
    work.mkdir(parents=True)
    (work / "manifest.json").write_text('{"method": "linear"}')
    result = subprocess.run([sys.executable, str(script), "--configs", "lego-graph", "--methods", "probe", "--jobs", "1",
                             "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "was made for a different graph learning set-up" in result.stderr
    assert "Traceback" not in result.stderr and sorted(p.name for p in work.iterdir()) == ["manifest.json"]

def test_regroup_arena_scores_both_groupings_per_validation_example():
    module = _regroup_arena()
    # 3 rows in group a at loss 1.0, 1 row in group b at loss 3.0: (3·1 + 1·3) / 4 = 1.5, not the mean 2.0
    per_skill = {"a": {"loss": 1.0}, "b": {"loss": 3.0}}
    assert module.example_weighted_loss(per_skill, {"a": 3, "b": 1}) == 1.5
    assert module.example_weighted_loss(per_skill, {"a": 2, "b": 2}) == 2.0


def test_regroup_arena_keeps_the_first_rows_of_every_skill_in_file_order(tmp_path):
    module = _regroup_arena()
    path = tmp_path / "train.jsonl"
    rows = [{"text": str(i), "skill": "xy"[i % 2]} for i in range(7)]
    path.write_text("".join(__import__("json").dumps(row) + "\n" for row in rows))
    kept = module.first_rows(path, 2, "skill")
    assert [row["text"] for row in kept] == ["0", "1", "2", "3"]


def test_mixture_movement_reads_the_regular_evaluations_only(tmp_path, capsys):
    # eval_every 5. "moving": seed 0 goes 0.5 → 0.8 on a (0.3), seed 1 0.5 → 0.6 (0.1): M = 0.2; its probe
    # record at step 3 (one-hot 1.0 / 0.0, not a multiple of 5) is left out. "static": M = 0.
    module = _script("mixture_movement")
    runs = []
    for seed, top in enumerate([0.8, 0.6]):
        moving = [(0, 0.5), (3, 1.0), (5, 0.5), (10, top)]
        records = [{"step": step, "losses": {"a": 1.0, "b": 1.0}, "accuracies": {"a": 0.0, "b": 0.0},
                    "weights": {"a": w, "b": 1.0 - w}} for step, w in moving]
        runs.append(RunRecord("moving", seed, {}, records, 10, 1.0, 0.1, 4))
        static = [{**r, "weights": {"a": 0.7, "b": 0.3}} for r in records]
        runs.append(RunRecord("static", seed, {}, static, 10, 1.0, 0.1, 4))
    out = tmp_path / "run"
    write_metrics(out / "metrics.jsonl", runs)
    atomic_write_json(out / "summary.json", summarize(runs, task="t", setting="pretrain", steps=10,
                                                     objective_skills=["a"], target_loss=None))
    (out / "config.yaml").write_text("training: {steps: 10, eval_every: 5}\n")
    assert module.movement(out) == pytest.approx({"moving": 0.2, "static": 0.0})
    assert module.main([str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["moving", "0.200"]
    assert module.main([str(tmp_path / "nothing")]) == 2


def test_sampler_scale_policy_figures_cover_both_graphs_at_a_small_scale():
    import argparse

    import numpy as np

    scale = _script("sampler_scale")
    args = argparse.Namespace(skills=50, edges=3, policy_rounds=3, no_dense=False)
    figures = scale.policy_figures(args)
    rng = np.random.default_rng(0)  # the script's graph: the diagonal + 3 random columns per row
    cols = np.concatenate([np.arange(50), rng.integers(0, 50, size=150)])
    rows = np.concatenate([np.arange(50), np.repeat(np.arange(50), 3)])
    assert figures["sparse"]["entries"] == len(set(zip(rows.tolist(), cols.tolist())))
    assert figures["dense"]["entries"] == 2500
    for graph in ("sparse", "dense"):
        assert set(figures[graph]) == {"entries", "setup_seconds", "update_ms_median", "weights_ms_median",
                                       "update_plus_weights_ms_median", "update_plus_weights_ms_max",
                                       "update_plus_weights_cpu_ms_median"}


def test_reference_graphs_take_the_benchmarks_own_steps_and_several_seeds():
    refs = _script("reference_graphs")
    config, section = refs.reference_config("math-finetune", "brute-force", None, [0, 1, 2])
    assert section == {"method": "brute-force", "params": {"steps": 300}, "seeds": [0, 1, 2]}
    assert (config.graph_learning.method, config.graph_learning.params, config.graph_learning.seeds) == \
        ("brute-force", {"steps": 300}, [0, 1, 2])
    # --columns targets: the evaluation skills cut to the fine-tuning target, the training skills all kept
    config, _ = refs.reference_config("real-text-finetune", "brute-force", None, [0, 1, 2], "targets")
    assert config.task.eval_skills == ["scripture"] and config.task.train_skills is None
    with pytest.raises(SystemExit):  # a pre-training benchmark has no target column to cut to
        refs.reference_config("math-pretrain", "brute-force", None, [0, 1, 2], "targets")
    with pytest.raises(SystemExit):
        refs.main(["math-finetune", "--seeds", "1"])  # one seed (seed 0) is no reference
    assert (Path(__file__).resolve().parents[1] / "benchmarks" / "reference_graphs" / "math-finetune.json").is_file()
    with pytest.raises(SystemExit):  # the committed reference is not replaced unasked (refused before any run)
        refs.main(["math-finetune"])


def test_learner_scores_match_the_hand_computation(tmp_path, monkeypatch):
    import json

    from skillit.graph import SkillsGraph

    scores = _script("learner_scores")
    target = "algebra__linear_1d_composed"
    rows = [target, "algebra__linear_1d", "arithmetic__add_or_sub", "arithmetic__mixed", "numbers__gcd",
            "comparison__sort"]

    def column(values):  # the target's column, rows in order
        return [[v] for v in values]

    # the reference: linear_1d and mixed are stable helpers; add_or_sub's mean 0.1 is not stable
    stable = SkillsGraph(column([1.0, 0.5, 0.0, 0.3, 0.0, 0.0]), rows, [target])
    (tmp_path / "math-finetune.json").write_text(json.dumps(
        {"graph": stable.to_dict(), "matrix_mean": column([1.0, 0.5, 0.1, 0.3, -0.05, 0.0])}))
    learned = {0: column([1.0, 0.4, 0.2, 0.0, 0.0, 0.0]), 1: column([1.0, 0.3, 0.0, 0.1, 0.0, 0.0])}
    # the learners also measure a column the reference does not have: it counts in no score, stability included
    other = {0: [[0.0]] * 5 + [[1.0]], 1: [[0.9]] + [[0.0]] * 5}

    def fake_learn(config, out_dir, *, method, jobs, plots):
        seed = config.graph_learning.seed
        matrix = [a + b for a, b in zip(learned[seed], other[seed])]
        return SkillsGraph(matrix, rows, [target, "numbers__gcd"],
                           {"cost": {"ratio_to_training_run": 0.4 + 0.2 * seed}})

    monkeypatch.setattr(scores, "learn_graph", fake_learn)
    row = scores.score("math-finetune", "probe", [0, 1], tmp_path / "work", 1, references=tmp_path)
    # seed 0 finds {linear_1d, add_or_sub}: precision 1/2, recall 1/2; seed 1 {linear_1d, mixed}: 1, 1
    assert (row["precision"], row["recall"], row["reference_edges"]) == (0.75, 0.75, 2)
    assert row["stability"] == pytest.approx(1 / 3)  # |{l}| / |{l, a, m}|
    assert row["cost_x_run"] == pytest.approx(0.5)
    # the planted prerequisites of the target: linear_1d, add_or_sub, mixed (each seed finds 2 of the 3)
    assert (row["planted_precision"], row["planted_recall"]) == (1.0, pytest.approx(2 / 3))
    assert row["spearman"] is not None


# ---- benchmarks/gpu_check.sh --------------------------------------------------------------------------
GPU_CHECK = SCRIPT.parent / "gpu_check.sh"


def _gpu_check(args, tmp_path, **env_changes):
    import os

    env = {key: value for key, value in os.environ.items() if key != "OUT"}  # the device machine's $OUT
    env.update(PYTHON=sys.executable, OMP_NUM_THREADS="1", **env_changes,
               PYTHONPATH=os.pathsep.join(filter(None, [str(SCRIPT.parents[1] / "src"), os.environ.get("PYTHONPATH")])))
    return subprocess.run(["bash", str(GPU_CHECK), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=1800)


def test_gpu_check_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(GPU_CHECK)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gpu_check_refuses_a_machine_without_cuda_at_once_and_writes_nothing(tmp_path):
    import time

    # torch's own view: CUDA hidden (also on a GPU machine), past the device-file check
    started = time.perf_counter()
    result = _gpu_check(["--out", "results"], tmp_path, CUDA_VISIBLE_DEVICES="", GPU_CHECK_NO_DEV_CHECK="1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "gpu_check needs a CUDA GPU" in result.stderr and "torch.cuda.is_available() is False" in result.stderr
    assert "--cpu-dry-run" in result.stderr and "Nothing was written" in result.stderr
    assert time.perf_counter() - started < 60  # one torch import, no stage
    assert list(tmp_path.iterdir()) == []  # no results folder, no runs/
    if not Path("/dev/nvidia0").exists():  # a CPU machine: refused before Python starts
        started = time.perf_counter()
        result = _gpu_check([], tmp_path, OUT=str(tmp_path / "out"))
        assert result.returncode == 2 and "no NVIDIA device" in result.stderr and "--cpu-dry-run" in result.stderr
        assert time.perf_counter() - started < 5
        assert list(tmp_path.iterdir()) == []


def test_gpu_check_refuses_unknown_arguments_and_stages(tmp_path):
    result = _gpu_check(["--cpu-dry-run", "--only", "placement,warp-drive"], tmp_path)
    assert result.returncode == 2 and "unknown stage 'warp-drive'" in result.stderr and "hf-fsdp" in result.stderr
    result = _gpu_check(["--fast"], tmp_path)
    assert result.returncode == 2 and "unknown argument '--fast'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_gpu_check_counts_tokens_from_the_draw_log_by_hand(tmp_path):
    """Two skills whose texts have 4 and 9 characters: 5 and 10 trained positions per example ([bos] text
    [eos], shifted by one); a step's padded positions are batch × the longest of its examples."""
    import json

    from skillit.experiment.config import parse_config
    from skillit.experiment.runner import run_experiment

    rows = [{"skill": "short", "text": "abcd"}] * 20 + [{"skill": "long", "text": "abcdefghi"}] * 20
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:2] + rows[-2:]))
    config = parse_config(f"""
name: tokens
task: {{name: data, params: {{train: {tmp_path / 'train.jsonl'}, validation: {tmp_path / 'validation.jsonl'},
                              text_field: text}}}}
model: {{n_layer: 1, n_head: 2, n_embd: 16}}
training: {{steps: 3, batch_size: 4, round_steps: 1, eval_every: 3, log_draws: true}}
methods: {{stratified: {{}}, skill-it: {{params: {{graph: identity, eta: 5.0}}}}}}
""")
    run_experiment(config, tmp_path / "run", jobs=1)
    module = _script("gpu_check")
    from skillit.records.metrics import RunRecord

    runs = {p.stem: RunRecord.load(p) for p in sorted((tmp_path / "run" / "runs").glob("*.json"))}
    rows = module.throughput(tmp_path / "run", runs)
    strat = rows["stratified__seed0"]
    assert strat["trained_tokens"] == 3 * (2 * 5 + 2 * 10)  # 2 of each skill per step at stratified weights
    assert strat["padded_positions"] == 3 * 4 * 10
    assert strat["tokens_per_second"] == pytest.approx(90 / runs["stratified__seed0"].train_seconds, rel=1e-3)
    assert strat["overhead_share_vs_stratified"] == 0
    seen = runs["skill-it__seed0"].records[-1]["examples_seen"]
    assert rows["skill-it__seed0"]["trained_tokens"] == seen["short"] * 5 + seen["long"] * 10
    expected = 1 - rows["skill-it__seed0"]["tokens_per_second"] / strat["tokens_per_second"]
    assert rows["skill-it__seed0"]["overhead_share_vs_stratified"] == pytest.approx(expected, abs=1e-4)


def test_gpu_check_dry_run_writes_one_results_file(tmp_path):
    import json

    result = _gpu_check(["--cpu-dry-run", "--only", "placement"], tmp_path, OUT=str(tmp_path / "dest"))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "dest" / "gpu_check.json").read_text())
    assert report["mode"] == "cpu-dry-run" and list(report["stages"]) == ["placement"]
    stage = report["stages"]["placement"]
    assert stage["status"] == "ok" and "gpu_check.py placement --device cpu" in stage["command"]
    assert stage["result"]["parameters_on"] == ["cpu"] and stage["result"]["autocast_bf16_logits_dtype"] == "torch.bfloat16"
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["gpu_check.json"]  # the work folder is gone


@pytest.mark.slow
def test_gpu_check_dry_run_runs_every_stage_on_the_cpu(tmp_path):
    import json

    result = _gpu_check(["--cpu-dry-run", "--out", "dest"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    stages = json.loads((tmp_path / "dest" / "gpu_check.json").read_text())["stages"]
    assert list(stages) == ["placement", "demo", "realtext", "collective", "ddp", "hf-fsdp"]
    assert all(stage["status"] == "ok" for stage in stages.values()), stages
    assert sorted(stages["demo"]["result"]["runs"]) == ["random__seed0", "skill-it__seed0", "stratified__seed0"]
    throughput = stages["realtext"]["result"]["throughput"]
    assert {row["method"] for row in throughput.values()} == {"stratified", "skill-it"}
    assert all(0 < row["trained_tokens"] <= row["padded_positions"] for row in throughput.values())
    assert stages["collective"]["result"]["ok"] and stages["collective"]["result"]["backend"] == "gloo"
    assert stages["ddp"]["result"]["world_size"] == 2 and stages["ddp"]["result"]["backend"] == "gloo"
    assert stages["hf-fsdp"]["result"]["records"][-1]["step"] == 2  # accelerate enables FSDP on GPUs only


def test_gpu_check_describes_a_cuda_device(monkeypatch):
    """The GPU-only branch of the placement report, on a stand-in device (no GPU here)."""
    import types

    import torch

    module = _script("gpu_check")
    properties = types.SimpleNamespace(total_memory=80 * 2**30, major=9, minor=0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: properties)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cuda.nccl, "version", lambda: (2, 21, 5))
    info = module.machine("cuda")
    assert info["gpu"] == "NVIDIA H100 80GB HBM3" and info["gpus_visible"] == 1
    assert info["gpu_memory_gib"] == 80.0 and info["capability"] == "9.0"
    assert info["bf16_supported"] is True and info["nccl"] == "2.21.5"
    assert "gpu" not in module.machine("cpu")
