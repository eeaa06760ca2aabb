#!/usr/bin/env bash
# Throughput and peak memory of `preflight validate --json` on a large chat JSONL, against a
# Python json.loads line-by-line loop over the same file in the same run. Preflight runs twice:
# as the CLI runs by default (a file of 64 MB or more is validated on min(CPUs, 4) threads over
# byte ranges) and with --workers 1 (one pass on one thread); CPU seconds are user + system time
# of all threads, so "MB per CPU-second" is the work done per unit of CPU whatever the threads.
#
#   bash bench/validate/run.sh [size-MB=1024] [runs=1]
#
# The file is generated (seeded) into bench/validate/data/ (gitignored) once and reused. Peak RSS
# comes from /usr/bin/time -v ("Maximum resident set size"). Prints MB/s, peak RSS and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-1024}
runs=${2:-1}
data=bench/validate/data
file=$data/chat-${size_mb}mb.jsonl
mkdir -p "$data"
[ -f "$file" ] || node bench/validate/generate.mjs "$file" "$size_mb" 1
[ -f dist/cli.js ] && [ -f dist/validateWorker.js ] && [ -f dist/jsonScan.wasm ] || npm run build --silent
python=${PYTHON:-/usr/bin/python3}
bytes=$(stat -c %s "$file")

measure() { # label, command... -> prints "label wall_seconds maxrss_kb cpu_seconds"
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || { echo "$label failed:"; cat "$log"; rm -f "$log"; exit 1; }
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$log")
  rm -f "$log"
  # wall is [h:]m:ss.ss
  local seconds
  seconds=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  echo "$label $seconds $rss $cpu"
}

pyloop=$(mktemp --suffix=.py)
cat > "$pyloop" <<'EOF'
import json, sys
n = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        if line.strip():
            json.loads(line)
            n += 1
print(n)
EOF

echo "file: $file ($((bytes / 1048576)) MB), $(nproc) cores, node $(node --version), $($python --version 2>&1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
threads=$(node -e "console.log(Math.min(require('os').availableParallelism(), 4))")
for ((r = 1; r <= runs; r++)); do
  read -r _ ns nrss ncpu < <(measure preflight node dist/cli.js validate --json "$file")
  read -r _ os orss ocpu < <(measure preflight1 node dist/cli.js validate --json --workers 1 "$file")
  read -r _ ps prss pcpu < <(measure python "$python" "$pyloop" "$file")
  awk -v b="$bytes" -v t="$threads" -v ns="$ns" -v nrss="$nrss" -v ncpu="$ncpu" -v os="$os" -v orss="$orss" -v ocpu="$ocpu" -v ps="$ps" -v prss="$prss" -v pcpu="$pcpu" 'BEGIN {
    mb = b / 1048576; nm = mb / ns; om = mb / os; pm = mb / ps;
    printf "preflight validate --json (%d threads): %7.1f s wall %7.1f MB/s  | %6.2f s CPU %7.1f MB/CPU-s  | peak RSS %6.1f MB\n", t, ns, nm, ncpu, mb / ncpu, nrss / 1024;
    printf "preflight validate --json --workers 1:  %7.1f s wall %7.1f MB/s  | %6.2f s CPU %7.1f MB/CPU-s  | peak RSS %6.1f MB\n", os, om, ocpu, mb / ocpu, orss / 1024;
    printf "python json.loads loop:                 %7.1f s wall %7.1f MB/s  | %6.2f s CPU %7.1f MB/CPU-s  | peak RSS %6.1f MB\n", ps, pm, pcpu, mb / pcpu, prss / 1024;
    printf "throughput ratio (preflight / python): %.2fx wall (%d threads), %.2fx wall (1 thread), %.2fx per CPU-second (%d threads), %.2fx per CPU-second (1 thread)\n", nm / pm, t, om / pm, pcpu / ncpu, t, pcpu / ocpu;
  }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$pyloop"
