#!/usr/bin/env bash
# Prettier (.prettierrc.json) in check mode over every code file of the repository (`npm run
# format:check`, a stage of `npm test`); `--write` formats them instead. Prettier finds the files
# itself: the glob below minus what .gitignore and .prettierignore name (dependencies, build
# output, caches, data), so a new file is checked without being listed anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--check
if [[ "${1:-}" == --write ]]; then mode=--write; fi
exec node_modules/.bin/prettier "$mode" --log-level warn '**/*.{ts,mts,cts,js,mjs,cjs}'
