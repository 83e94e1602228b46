#!/usr/bin/env bash
# The GPU check (issue 26): on a machine with one or more NVIDIA GPUs, in under 8 minutes, measure
#   placement   CUDA placement: the device's name, memory, bf16 support; a GPT's parameters and logits on it
#   demo        `skillit run lego-demo` on cuda in bf16 (3 methods x 2 seeds, as shipped)
#   realtext    a ~30M-parameter GPT (6 layers, 640 dims) on the shipped real_text data in bf16, stratified
#               and skill-it: trained tokens/s of each and the mixing's overhead share (1 - skill-it/stratified)
#   collective  torchrun over the visible GPUs: skillit's all_reduce over NCCL
#   ddp         `torchrun -m skillit run` on the demo over the visible GPUs (with one GPU
#               it runs as one process: skillit opens no process group for a world of 1)
#   hf-fsdp     a stock Hugging Face Trainer with SkillMixingDataset + SkillMixingCallback under
#               `accelerate launch --use_fsdp` (FSDP2, bf16), when transformers and accelerate are installed
# Everything measured goes into one file, DIR/gpu_check.json (DIR: --out, else $OUT, else runs/gpu-check);
# each stage has a status (ok, failed, timeout, skipped), its seconds, its command and, when it failed, the
# tail of its log. A failed stage does not stop the others. Exit 0: every stage ok or skipped; 1: some stage
# failed or ran out of time; 2: refused (no CUDA, a bad argument).
#
#   benchmarks/gpu_check.sh [--out DIR] [--only STAGE,...] [--keep-work]
#   benchmarks/gpu_check.sh --cpu-dry-run [--out DIR] [--only STAGE,...]   # every stage, 2 steps, on the CPU
#
# Without CUDA it refuses at once (exit 2, nothing written), unless --cpu-dry-run: that runs every stage on
# the CPU for 2 steps with tiny models to check the script itself (its figures mean nothing; tested by
# tests/test_benchmark_scripts.py). Precision: bf16 where this skillit has `training.precision` (the stage
# says "fp32 (asked bf16: ...)" otherwise). PYTHON selects the interpreter (default: python3).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}
HELPER="$HERE/gpu_check.py"
DRY=0
KEEP=0
DEST=""
ONLY=""
ALL_STAGES="placement demo realtext collective ddp hf-fsdp"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --cpu-dry-run) DRY=1 ;;
        --keep-work) KEEP=1 ;;
        --out) shift; DEST=${1:?--out needs a folder} ;;
        --out=*) DEST=${1#--out=} ;;
        --only) shift; ONLY=${1:?--only needs stage names} ;;
        --only=*) ONLY=${1#--only=} ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for stage in ${ONLY//,/ }; do
    case " $ALL_STAGES " in
        *" $stage "*) ;;
        *) echo "error: unknown stage '$stage'; stages: ${ALL_STAGES// /, }" >&2; exit 2 ;;
    esac
done

if [ "$DRY" = 1 ]; then
    DEVICE=cpu
    NPROC=2          # two gloo ranks: the torchrun paths are the same code as with NCCL
    MODE=cpu-dry-run
    BUDGET=1800      # a loaded CPU; the 8-minute budget is the GPU run's
else
    if ! compgen -G "/dev/nvidia[0-9]*" > /dev/null && [ -z "${GPU_CHECK_NO_DEV_CHECK:-}" ]; then
        echo "error: gpu_check needs a CUDA GPU, and this machine has no NVIDIA device (no /dev/nvidia0). Run it on" \
             "a machine with an NVIDIA GPU and a CUDA build of torch; to check the script itself here, add" \
             "--cpu-dry-run (every stage for 2 steps on the CPU, figures meaningless). Nothing was written." >&2
        exit 2
    fi
    NGPU=$("$PY" "$HELPER" cuda) || exit 2   # torch's own view (a CPU build, CUDA_VISIBLE_DEVICES=""): nothing written
    DEVICE=cuda
    NPROC=$NGPU
    MODE=gpu
    BUDGET=470       # seconds for all stages: the whole check stays under 8 minutes
fi

DEST=${DEST:-${OUT:-runs/gpu-check}}
mkdir -p "$DEST" || exit 2
DEST=$(cd "$DEST" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
if [ "$KEEP" = 1 ]; then WORK="$DEST/work"; rm -rf "$WORK"; mkdir -p "$WORK"; fi
export PYTHONUNBUFFERED=1
STARTED=$(date +%s)
echo "gpu_check ($MODE): results -> $DEST/gpu_check.json (work folder $WORK)"

wanted() { [ -z "$ONLY" ] || case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

mark() {  # mark NAME STATUS EXIT SECONDS LIMIT
    printf '{"status": "%s", "exit": %d, "seconds": %.1f, "limit": %d}\n' "$2" "$3" "$4" "$5" > "$WORK/$1.status.json"
}

skip() {  # skip NAME REASON
    echo "== $1: skipped ($2)"
    printf '%s\n' "$2" > "$WORK/$1.reason"
    mark "$1" skipped 0 0 0
}

run_stage() {  # run_stage NAME LIMIT COMMAND...: runs with a time limit, log in WORK/NAME.log
    local name=$1 limit=$2 now left begin rc seconds status
    shift 2
    now=$(date +%s)
    left=$((STARTED + BUDGET - now))
    if [ "$left" -lt 20 ]; then skip "$name" "out of the ${BUDGET}-second budget"; return 1; fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "== $name (at most ${limit} s)"
    printf '%q ' "$@" >> "$WORK/$name.cmd"; echo >> "$WORK/$name.cmd"
    begin=$(date +%s.%N)
    timeout --kill-after=15 "$limit" "$@" >> "$WORK/$name.log" 2>&1
    rc=$?
    seconds=$(awk -v a="$begin" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    case $rc in
        0) status=ok ;;
        124|137) status=timeout ;;
        *) status=failed ;;
    esac
    mark "$name" "$status" "$rc" "$seconds" "$limit"
    echo "   $status in $seconds s"
    [ "$rc" = 0 ]
}

then_summarise() {  # then_summarise NAME RUN_DIR [--throughput]: the run's figures into WORK/NAME.json
    local name=$1 run=$2
    shift 2
    if ! "$PY" "$HELPER" run-summary "$run" --out "$WORK/$name.json" "$@" >> "$WORK/$name.log" 2>&1; then
        sed -i 's/"status": "ok"/"status": "failed"/' "$WORK/$name.status.json"
        echo "   failed: could not read the run's results (log: $WORK/$name.log)"
    fi
}

# the dry run's sizes: every stage for 2 steps, tiny models, little data
if [ "$DRY" = 1 ]; then
    RUN_SHORT=(--steps 2 --seeds 1)
    TEXT_SIZE=(--set model.n_layer=1 --set model.n_head=2 --set model.n_embd=32 --set training.batch_size=4
               --set task.params.max_examples=40 --set task.params.max_validation=4 --set training.eval_batch_size=16)
    DDP_SHORT=(--steps 2 --seeds 1)
    HF_SIZE=(--steps 2 --batch 4 --tiny --device cpu)
    HF_PRECISION=no
else
    RUN_SHORT=()
    TEXT_SIZE=(--set model.n_layer=6 --set model.n_head=10 --set model.n_embd=640 --set training.batch_size=32
               --set training.steps=300 --set training.round_steps=60 --set training.eval_every=60
               --set training.lr=0.001 --set training.warmup_steps=30 --set training.eval_batch_size=64)
    DDP_SHORT=(--steps 140 --seeds 1)
    HF_SIZE=(--steps 60 --batch 16 --device cuda --require-fsdp)
    HF_PRECISION=bf16
fi

if wanted placement; then
    run_stage placement 60 "$PY" "$HELPER" placement --device "$DEVICE" --out "$WORK/placement.json"
fi

if wanted demo || wanted ddp; then
    "$PY" "$HELPER" config lego-demo "$WORK/demo.yaml" --device "$DEVICE" --precision bf16 \
        --note "$WORK/demo.config.json" > /dev/null 2>> "$WORK/demo.log"
fi
if wanted demo; then
    run_stage demo 150 "$PY" -m skillit run "$WORK/demo.yaml" --out "$WORK/demo-run" --jobs 1 "${RUN_SHORT[@]}" \
        && then_summarise demo "$WORK/demo-run"
fi

if wanted realtext; then
    if "$PY" "$HELPER" config real-text "$WORK/realtext.yaml" --device "$DEVICE" --precision bf16 \
        --methods stratified,skill-it --set seeds=[0] --set training.log_draws=true "${TEXT_SIZE[@]}" \
        --note "$WORK/realtext.config.json" > /dev/null 2>> "$WORK/realtext.log"; then
        run_stage realtext 200 "$PY" -m skillit run "$WORK/realtext.yaml" --out "$WORK/realtext-run" --jobs 1 \
            "${RUN_SHORT[@]}" && then_summarise realtext "$WORK/realtext-run" --throughput
    else
        mark realtext failed 1 0 0; echo "== realtext: failed to write its config (log: $WORK/realtext.log)"
    fi
fi

if wanted collective; then
    run_stage collective 60 "$PY" -m torch.distributed.run --standalone --nproc_per_node "$NPROC" \
        "$HELPER" collective --out "$WORK/collective.json"
fi

if wanted ddp; then
    run_stage ddp 90 "$PY" -m torch.distributed.run --standalone --nproc_per_node "$NPROC" \
        -m skillit run "$WORK/demo.yaml" --out "$WORK/ddp-run" \
        --methods stratified,skill-it "${DDP_SHORT[@]}" && then_summarise ddp "$WORK/ddp-run"
fi

if wanted hf-fsdp; then
    if ! "$PY" -c "import accelerate, transformers" 2> /dev/null; then
        skip hf-fsdp "transformers or accelerate is not installed (pip install -e '.[hf]')"
    else
        # FSDP2, every GPT2Block a unit; on the CPU accelerate does not enable FSDP (its FSDP needs GPUs), so the
        # dry run checks the launch, the Trainer and the callback under accelerate, and records fsdp_enabled: false
        run_stage hf-fsdp 120 "$PY" -m accelerate.commands.launch --num_processes "$NPROC" --num_machines 1 \
            --mixed_precision "$HF_PRECISION" --dynamo_backend no --use_fsdp --fsdp_version 2 \
            --fsdp_auto_wrap_policy TRANSFORMER_BASED_WRAP --fsdp_transformer_layer_cls_to_wrap GPT2Block \
            --fsdp_reshard_after_forward true \
            "$HELPER" hf-fsdp --out "$WORK/hf-fsdp.json" "${HF_SIZE[@]}"
    fi
fi

TOTAL=$(( $(date +%s) - STARTED ))
"$PY" "$HELPER" collect "$WORK" --out "$DEST/gpu_check.json" --mode "$MODE" --total-seconds "$TOTAL"
RC=$?
[ "$KEEP" = 1 ] || rm -rf "$WORK"
exit $RC
