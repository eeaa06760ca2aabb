#!/usr/bin/env bash
# Runs the two-process DDP test N times in a row (default 50), stopping at the first failure.
# Usage: nice -n 15 bash bench/bear/ddp_repeat.sh [N]   (from the repository root; prints "passed K/N")
set -u
n=${1:-50}
ok=0
for i in $(seq 1 "$n"); do
  if OMP_NUM_THREADS=1 timeout -s KILL 600 /usr/bin/python3 -m pytest python/tests/test_train.py -q -x \
      -k test_distributed_two_cpu_processes -p no:cacheprovider >"/tmp/ddp_repeat_$i.log" 2>&1; then
    ok=$((ok + 1)); rm -f "/tmp/ddp_repeat_$i.log"
    echo "run $i passed ($(date -u +%T))"
  else
    echo "run $i FAILED: /tmp/ddp_repeat_$i.log"; break
  fi
done
echo "passed $ok/$n"
