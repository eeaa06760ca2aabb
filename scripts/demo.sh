#!/usr/bin/env bash
# `npm run demo`: the main job on the bundled examples/, on a fresh machine, offline, with the
# bundled demo model preflight-tiny: validation, the behaviour forecast of each candidate file in
# examples/mdf/, the annotation analysis with its human test and the BEAR beam-pruning audit.
# `preflight demo` does the work (src/core/report/) and writes preflight-report/report.html (one
# self-contained page with charts) and preflight-report/report.md; progress goes to the terminal.
set -uo pipefail
cd "$(dirname "$0")/.."
echo "Building (esbuild)…"
build_log="$(mktemp)"
if ! npm run --silent build >"$build_log" 2>&1; then cat "$build_log"; rm -f "$build_log"; exit 2; fi
rm -f "$build_log"
echo "\$ preflight demo $*"
exec node dist/cli.js demo "$@"
