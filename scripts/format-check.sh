#!/usr/bin/env bash
# Prettier in check mode over the files listed in scripts/formatted-files.txt (`npm run
# format:check`, a stage of `npm test`); `--write` formats them instead. Listed files that were
# deleted or moved since are skipped (a rename only needs its new path added).
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r f; do
  [[ -z "$f" || "$f" == \#* ]] && continue
  [[ -f "$f" ]] && files+=("$f")
done < scripts/formatted-files.txt
mode=--check
if [[ "${1:-}" == --write ]]; then mode=--write; fi
exec node_modules/.bin/prettier "$mode" --log-level warn "${files[@]}"
