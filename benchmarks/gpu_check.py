"""The Python side of benchmarks/gpu_check.sh (run that; this file holds its stages).

    python benchmarks/gpu_check.py cuda                       # exit 2 with a message when torch sees no CUDA
    python benchmarks/gpu_check.py placement --device cuda --out F.json
    python benchmarks/gpu_check.py config lego-demo OUT.yaml --device cuda --precision bf16 [--set training.steps=2 ...]
    python benchmarks/gpu_check.py run-summary RUN_DIR --out F.json [--throughput]
    torchrun ... benchmarks/gpu_check.py collective --out F.json
    accelerate launch --use_fsdp ... benchmarks/gpu_check.py hf-fsdp --device cuda --out F.json
    python benchmarks/gpu_check.py collect WORK_DIR --out gpu_check.json

Throughput (``run-summary --throughput``): the run must log its draws (``training.log_draws: true``). Tokens
are counted exactly from the draw log: every drawn example's ``[bos] prompt answer [eos]`` is encoded with
the run's tokenizer; ``trained tokens`` = Σ (length − 1) (the positions the model predicts), ``padded
positions`` = Σ_steps batch × longest input of the step (what the GPU computes). Seconds are the run
record's ``train_seconds`` (the Mixer's clock: drawing, padding, forward, backward, optimiser; evaluation
and the policy update at a round's end excluded), so ``tokens/s`` is the training throughput. The mixing
overhead share is 1 − tokens/s(method) / tokens/s(stratified).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any


def write_json(path: str | Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


# ---- cuda: the refusal ------------------------------------------------------------------------------
def cmd_cuda(args: argparse.Namespace) -> int:
    import torch

    if not torch.cuda.is_available():
        build = f"torch {torch.__version__}" + (f" (CUDA {torch.version.cuda})" if torch.version.cuda else " (a CPU-only build)")
        print(
            f"error: gpu_check needs a CUDA GPU, and {build} sees none (torch.cuda.is_available() is False). "
            "Run it on a machine with an NVIDIA GPU and a CUDA build of torch; to check the script itself on "
            "this machine, add --cpu-dry-run (every stage for 2 steps on the CPU, figures meaningless). "
            "Nothing was written.",
            file=sys.stderr,
        )
        return 2
    print(torch.cuda.device_count())
    return 0


# ---- placement --------------------------------------------------------------------------------------
def machine(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "torch": torch.__version__, "cuda_build": torch.version.cuda, "python": platform.python_version(),
        "host_cpus": os.cpu_count(), "device": device,
    }
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        info.update({
            "gpu": torch.cuda.get_device_name(0), "gpus_visible": torch.cuda.device_count(),
            "gpu_memory_gib": round(props.total_memory / 2**30, 1), "capability": f"{props.major}.{props.minor}",
            "bf16_supported": bool(torch.cuda.is_bf16_supported()),
            "nccl": _nccl_version(),
        })
    return info


def _nccl_version() -> str | None:
    import torch

    try:
        version = torch.cuda.nccl.version()  # a tuple (major, minor, patch); an int in old torch
    except (AttributeError, RuntimeError):
        return None
    return ".".join(map(str, version)) if isinstance(version, tuple) else str(version)


def cmd_placement(args: argparse.Namespace) -> int:
    import torch

    from skillit.model import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=4, n_embd=64)).to(args.device)
    ids = torch.randint(0, 64, (4, 32), device=args.device)
    started = time.perf_counter()
    logits = model(input_ids=ids).logits
    dtype = str(logits.dtype)
    with torch.autocast(device_type=torch.device(args.device).type, dtype=torch.bfloat16):
        bf16 = str(model(input_ids=ids).logits.dtype)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    write_json(args.out, {
        **machine(args.device),
        "parameters_on": sorted({str(p.device) for p in model.parameters()}),
        "logits_on": str(logits.device), "logits_dtype": dtype, "autocast_bf16_logits_dtype": bf16,
        "first_forward_seconds": round(time.perf_counter() - started, 4),
    })
    return 0


# ---- config: a shipped config with the check's changes ---------------------------------------------
def parse_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def cmd_config(args: argparse.Namespace) -> int:
    """Write a shipped config with changes, validated by skillit's own loader; say what precision it runs in."""
    import yaml

    from skillit.experiment.config import TrainingConfig, load_config, resolve_config_path

    data = load_config(resolve_config_path(args.base)).model_dump(mode="json")  # data paths made absolute
    data["name"] = args.name or f"gpu-check-{data['name']}"
    data["device"] = args.device
    if args.methods:
        data["methods"] = {name: data["methods"][name] for name in args.methods.split(",")}
    for item in args.set or []:
        key, _, value = item.partition("=")
        node = data
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = parse_value(value)
    note = "fp32"
    if args.precision and args.precision != "fp32":
        if "precision" in TrainingConfig.model_fields:
            data["training"]["precision"] = args.precision
            note = args.precision
        else:
            note = f"fp32 (asked {args.precision}: this skillit has no training.precision)"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False))
    load_config(out)  # refuses what skillit would refuse, before the stage runs
    print(note)
    if args.note:
        write_json(args.note, {"precision": note, "config": data})
    return 0


# ---- run-summary: what a finished run directory says -------------------------------------------------
def cmd_run_summary(args: argparse.Namespace) -> int:
    from skillit.records.layout import RunLayout
    from skillit.records.metrics import RunRecord

    run_dir = Path(args.run_dir)
    layout = RunLayout(run_dir)
    summary = layout.read_summary()
    out: dict[str, Any] = {
        key: summary.get(key) for key in ("device", "world_size", "backend", "jobs", "steps") if key in summary
    }
    runs = {path.stem: RunRecord.load(path) for path in sorted(layout.runs_dir.glob("*.json"))}
    out["runs"] = {
        name: {"steps": run.steps, "train_seconds": round(run.train_seconds, 3), "eval_seconds": round(run.eval_seconds, 3),
               "parameters": run.parameters, "final_mean_loss": _mean_loss(run.records[-1]),
               "first_mean_loss": _mean_loss(run.records[0])}
        for name, run in runs.items()
    }
    if args.throughput:
        out["throughput"] = throughput(run_dir, runs)
    write_json(args.out, out)
    return 0


def _mean_loss(record: dict[str, Any]) -> float | None:
    losses = [v for v in record.get("losses", {}).values() if v is not None]
    return round(sum(losses) / len(losses), 4) if losses else None


def throughput(run_dir: Path, runs: dict[str, Any]) -> dict[str, Any]:
    """Tokens/s per run from its draw log, and each method's overhead share against stratified (module docstring)."""
    from skillit.experiment.build import build_seed_data
    from skillit.experiment.config import load_config
    from skillit.records.layout import DRAWS, RunLayout
    from skillit.trainer import encode_example, read_draw_log

    config = load_config(RunLayout(run_dir).config)
    data = build_seed_data(config, config.seeds[0])  # the skills and tokenizer the runs trained with
    skills, tokenizer = data.skills, data.tokenizer
    length: dict[tuple[str, int], int] = {}
    rows: dict[str, Any] = {}
    for name, run in runs.items():
        logs = sorted((run_dir / DRAWS).glob(f"{name}*.jsonl"))
        if not logs:
            raise SystemExit(f"{run_dir / DRAWS} has no draw log of {name}: run with training.log_draws: true")
        trained = padded = 0
        for log in logs:  # one per rank under DDP
            for line in read_draw_log(log):
                sizes = []
                for skill, index in line["draws"]:
                    key = (skill, int(index))
                    if key not in length:
                        length[key] = len(encode_example(tokenizer, skills[skill].train.get(int(index)))[0]) - 1
                    sizes.append(length[key])
                trained += sum(sizes)
                padded += len(sizes) * max(sizes)
        seconds = run.train_seconds
        rows[name] = {"method": run.method, "trained_tokens": trained, "padded_positions": padded,
                      "train_seconds": round(seconds, 3), "tokens_per_second": round(trained / seconds, 1),
                      "padded_positions_per_second": round(padded / seconds, 1),
                      "ms_per_step": round(1000 * seconds / run.steps, 3)}
    base = next((row for row in rows.values() if row["method"] == "stratified"), None)
    if base is not None:
        for row in rows.values():
            # per token, so that runs whose mixtures draw longer or shorter examples compare fairly
            row["overhead_share_vs_stratified"] = round(1 - row["tokens_per_second"] / base["tokens_per_second"], 4)
    return rows


# ---- collective: NCCL (or gloo) under torchrun ------------------------------------------------------
def cmd_collective(args: argparse.Namespace) -> int:
    """Join torchrun's group with skillit's own set-up and all-reduce with skillit's all_reduce (even on 1 rank)."""
    import numpy as np
    import torch
    import torch.distributed as dist

    from skillit.trainer.distributed import make_all_reduce, torchrun_env

    rank, world, local = torchrun_env()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    device = f"cuda:{local}" if backend == "nccl" else "cpu"
    if backend == "nccl":
        torch.cuda.set_device(local)
        dist.init_process_group(backend, device_id=torch.device(device))
    else:
        dist.init_process_group(backend)
    try:
        reduce = make_all_reduce(device)
        started = time.perf_counter()
        total = reduce(np.array([rank + 1.0, 1.0]))
        big = reduce(np.ones(1 << 20))  # 8 MiB of float64
        seconds = time.perf_counter() - started
        expected = [world * (world + 1) / 2, float(world)]
        ok = total.tolist() == expected and float(big[0]) == float(world)
        if rank == 0:
            write_json(args.out, {"backend": backend, "world_size": world, "device": device,
                                  "sum_of_ranks": total.tolist(), "expected": expected, "ok": ok,
                                  "seconds": round(seconds, 4)})
        dist.barrier()
    finally:
        dist.destroy_process_group()
    return 0 if ok else 1


# ---- hf-fsdp: a stock HF Trainer with the mixing callback, under accelerate (FSDP) --------------------
def cmd_hf_fsdp(args: argparse.Namespace) -> int:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from skillit import SkillIt, build_task, builtin_graph
    from skillit.integrations.hf import SkillMixingCallback, SkillMixingDataset, train_hf_tokenizer

    skills = build_task("lego", {"k": 5, "validation_size": 32, "train_pool_size": 4000}, seed=0)
    texts = [skills[name].train.get(i).text for name in skills.train_names for i in range(200)]
    tokenizer = train_hf_tokenizer(texts, vocab_size=300)
    torch.manual_seed(0)
    n_layer, n_embd = (1, 32) if args.tiny else (6, 512)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=64, n_layer=n_layer, n_head=8 if n_embd >= 64 else 2,
                                       n_embd=n_embd, bos_token_id=tokenizer.bos_id, eos_token_id=tokenizer.eos_id,
                                       pad_token_id=tokenizer.pad_id))
    dataset = SkillMixingDataset(skills, tokenizer, seed=0, max_length=model.config.n_positions)
    mixing = SkillMixingCallback(dataset, SkillIt(builtin_graph("lego"), eta=0.5), round_steps=max(1, args.steps // 4),
                                 eval_every=max(1, args.steps // 4))
    cuda = args.device.startswith("cuda")
    training = TrainingArguments(
        output_dir=str(Path(args.out).parent / "hf-out"), max_steps=args.steps, per_device_train_batch_size=args.batch,
        learning_rate=1e-3, report_to=[], save_strategy="no", logging_steps=10**6, disable_tqdm=True,
        bf16=cuda and torch.cuda.is_bf16_supported(), ignore_data_skip=True,
        accelerator_config={"dispatch_batches": False}, **({} if cuda else {"ddp_backend": "gloo"}),
    )
    trainer = Trainer(model=model, args=training, train_dataset=dataset, data_collator=dataset.collate,
                      callbacks=[mixing])
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    fsdp = bool(getattr(trainer, "is_fsdp_enabled", False))
    records = mixing.records
    if trainer.args.process_index == 0:
        write_json(args.out, {
            "fsdp_enabled": fsdp, "wrapped_model": type(trainer.model_wrapped).__name__,
            "fsdp_plugin": str(getattr(trainer.accelerator.state, "fsdp_plugin", None))[:400] if fsdp else None,
            "world_size": int(trainer.args.world_size), "bf16": bool(training.bf16), "device": str(training.device),
            "parameters": sum(p.numel() for p in model.parameters()), "steps": args.steps, "seconds": round(seconds, 3),
            "records": [{"step": r["step"], "round": r["round"], "mean_loss": _mean_loss(r), "train_loss": r["train_loss"],
                         "weights": {k: round(v, 4) for k, v in r["weights"].items()}} for r in records],
        })
    trainer.accelerator.free_memory()
    del trainer, model
    from skillit.trainer.distributed import destroy_process_group

    destroy_process_group()
    if args.require_fsdp and not fsdp:
        print("error: the Trainer did not run under FSDP (is_fsdp_enabled is False)", file=sys.stderr)
        return 1
    return 0


# ---- collect: the one results file -------------------------------------------------------------------
def cmd_collect(args: argparse.Namespace) -> int:
    work = Path(args.work)
    stages: dict[str, Any] = {}
    for status in sorted(work.glob("*.status.json"), key=lambda p: p.stat().st_mtime):
        name = status.name.removesuffix(".status.json")
        entry = json.loads(status.read_text())
        for suffix, key in ((".cmd", "command"), (".reason", "reason")):
            if (work / f"{name}{suffix}").is_file():
                entry[key] = (work / f"{name}{suffix}").read_text().strip()
        if (work / f"{name}.config.json").is_file():
            entry["precision"] = json.loads((work / f"{name}.config.json").read_text())["precision"]
        result = work / f"{name}.json"
        if result.is_file():
            entry["result"] = json.loads(result.read_text())
        log = work / f"{name}.log"
        if entry.get("status") != "ok" and log.is_file():
            entry["log_tail"] = log.read_text(errors="replace")[-3000:]
        stages[name] = entry
    report = {"mode": args.mode, "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "total_seconds": args.total_seconds, "stages": stages}
    write_json(args.out, report)
    print(f"\ngpu_check ({args.mode}): {args.out}")
    for name, entry in stages.items():
        print(f"  {name:14} {entry['status']:8} {entry.get('seconds', 0):>7.1f} s  {headline(name, entry.get('result'))}")
    return 0 if all(entry["status"] in ("ok", "skipped") for entry in stages.values()) else 1


def headline(name: str, result: Any) -> str:
    if not isinstance(result, dict):
        return ""
    if "gpu" in result or "parameters_on" in result:
        return f"{result.get('gpu', result.get('device'))}, parameters on {', '.join(result.get('parameters_on', []))}"
    if "throughput" in result:
        return "; ".join(f"{row['method']} {row['tokens_per_second']:.0f} tok/s"
                         + (f" (overhead {100 * row['overhead_share_vs_stratified']:.1f} %)"
                            if "overhead_share_vs_stratified" in row and row["method"] != "stratified" else "")
                         for row in result["throughput"].values())
    if "fsdp_enabled" in result:
        return f"FSDP {result['fsdp_enabled']} ({result['wrapped_model']}), {result['world_size']} process(es)"
    if "backend" in result and "sum_of_ranks" in result:
        return f"{result['backend']} over {result['world_size']} rank(s): ok={result['ok']}"
    if "runs" in result:
        return f"{len(result['runs'])} run(s), backend {result.get('backend')}, world size {result.get('world_size', 1)}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("cuda")
    p = sub.add_parser("placement")
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True)
    p = sub.add_parser("config")
    p.add_argument("base")
    p.add_argument("out")
    p.add_argument("--device", default="cuda")
    p.add_argument("--precision", default="bf16")
    p.add_argument("--methods")
    p.add_argument("--name")
    p.add_argument("--set", action="append", help="dotted.key=yaml-value, e.g. training.steps=2 (repeatable)")
    p.add_argument("--note", help="also write the precision and the config as JSON here")
    p = sub.add_parser("run-summary")
    p.add_argument("run_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--throughput", action="store_true")
    p = sub.add_parser("collective")
    p.add_argument("--out", required=True)
    p = sub.add_parser("hf-fsdp")
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--require-fsdp", action="store_true", help="exit 1 when the Trainer did not run under FSDP")
    p.add_argument("--out", required=True)
    p = sub.add_parser("collect")
    p.add_argument("work")
    p.add_argument("--out", required=True)
    p.add_argument("--mode", default="gpu")
    p.add_argument("--total-seconds", type=float, default=None)
    args = parser.parse_args(argv)
    command = {"cuda": cmd_cuda, "placement": cmd_placement, "config": cmd_config, "run-summary": cmd_run_summary,
               "collective": cmd_collective, "hf-fsdp": cmd_hf_fsdp, "collect": cmd_collect}[args.command]
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
