#!/usr/bin/env bash
# Python tests run on Debian's torch with the system interpreter (the first python3 on PATH may lack torch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PREFLIGHT_PYTHON:-/usr/bin/python3}"
if [ ! -d python/tests ]; then echo "no Python tests yet"; exit 0; fi
"$PYTHON" -m pytest python -q
