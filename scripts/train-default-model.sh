#!/usr/bin/env bash
# Rebuilds models/preflight-tiny from nothing with the project's own code: the world corpus (seed in
# models/preflight-tiny/pretrain.json), the word tokenizer, LM pretraining (on CUDA when torch sees a GPU,
# else the CPU), then the measured model card (check.json, README.md), the held-out probe suites and
# examples/mdf/. Minutes on one GPU; hours on two CPU cores (docs/default-model.md).
#   scripts/train-default-model.sh [RUN_DIR]     (default .cache/preflight-tiny-run)
# A dry run of the whole pipeline that leaves the repository alone:
#   STEPS=20 QUICK=1 MODEL_OUT=/tmp/tiny EXAMPLES_OUT=/tmp/tiny-examples scripts/train-default-model.sh /tmp/tiny-run
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PREFLIGHT_PYTHON:-/usr/bin/python3}"
RUN="${1:-.cache/preflight-tiny-run}"
MODEL_OUT="${MODEL_OUT:-models/preflight-tiny}"
EXAMPLES_OUT="${EXAMPLES_OUT:-examples/mdf}"
# One torch thread on the CPU: on a shared 2-core machine two OpenMP threads spin against each other (measured ~10x slower).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" -m preflight_train pretrain --config models/preflight-tiny/pretrain.json --output-dir "$RUN" ${STEPS:+--steps "$STEPS"}
"$PYTHON" -m preflight_train.pretrain_card --run "$RUN" --model "$MODEL_OUT" --examples "$EXAMPLES_OUT" ${QUICK:+--quick}
echo "preflight-tiny rebuilt in $MODEL_OUT (run files in $RUN)"
