#!/usr/bin/env bash
# `npm run demo`: the main job on bundled data, on a fresh machine, offline. For now: validation
# of examples/ (some files there are defective on purpose, so findings are the expected output).
set -uo pipefail
cd "$(dirname "$0")/.."
build_log="$(mktemp)"
if ! npm run --silent build >"$build_log" 2>&1; then cat "$build_log"; rm -f "$build_log"; exit 2; fi
rm -f "$build_log"
echo "\$ preflight validate examples"
node dist/cli.js validate examples
status=$?
if [ "$status" -eq 1 ]; then
  echo
  echo "Demo done: the errors above are planted in examples/ (see examples/README.md); exit status 1 is what CI would see."
  exit 0
fi
exit "$status"
