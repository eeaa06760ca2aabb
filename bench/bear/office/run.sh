#!/usr/bin/env bash
# LML, MSL and BEAR on the authors' Office data, one process per loss (each runs every seed), then the
# table. Extra arguments go to every run.py (e.g. --train 400). Run from the repository root, niced.
set -euo pipefail
pids=()
for loss in lml msl bear; do
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/bear/office/run.py --losses "$loss" "$@" > "/tmp/preflight-bear-office-$loss.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
/usr/bin/python3 bench/bear/office/run.py --report "$@"
exit $status
