#!/usr/bin/env bash
# Rebuilds models/preflight-tiny from nothing with the project's own code: the world corpus (seed in
# models/preflight-tiny/pretrain.json), the word tokenizer, LM pretraining, then the measured model card
# (check.json, README.md), the held-out probe suites and examples/mdf/. About an hour on 2 loaded cores.
#   scripts/train-default-model.sh [RUN_DIR]     (default .cache/preflight-tiny-run)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PREFLIGHT_PYTHON:-/usr/bin/python3}"
RUN="${1:-.cache/preflight-tiny-run}"
# One torch thread: on a shared 2-core machine two OpenMP threads spin against each other (measured ~10x slower).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" -m preflight_train pretrain --config models/preflight-tiny/pretrain.json --output-dir "$RUN"
"$PYTHON" -m preflight_train.pretrain_card --run "$RUN" --model models/preflight-tiny --examples examples/mdf
echo "preflight-tiny rebuilt in models/preflight-tiny (run files in $RUN)"
