#!/usr/bin/env bash
# The project's one test command (`npm test`): type check, build, unit tests, Python tests, end-to-end in code-server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run --silent typecheck
npm run --silent build
npm run --silent test:unit
npm run --silent test:python
npm run --silent test:e2e
