#!/usr/bin/env bash
# The project's one test command (`npm test`): type check, lint (ESLint) and format check (Prettier),
# build, unit tests, Python tests,
# extension-host tests in desktop VS Code (skip at once where VS Code cannot be had), and the
# end-to-end tests in code-server + Chromium. Each stage's time is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a timings=()
stage() {
  local name="$1" t0=$SECONDS
  shift
  echo "== $name"
  "$@"
  timings+=("$(printf '%-14s %4ds' "$name" "$((SECONDS - t0))")")
}
report() { echo "== stage times"; printf '  %s\n' "${timings[@]}"; }
trap report EXIT

stage deps        bash scripts/install-test-deps.sh
stage typecheck   npm run --silent typecheck
stage lint        npm run --silent lint
stage format      npm run --silent format:check
stage build       npm run --silent build
stage unit        npm run --silent test:unit
stage python      npm run --silent test:python
stage electron    npm run --silent test:electron
stage e2e         npm run --silent test:e2e
