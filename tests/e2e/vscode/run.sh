#!/usr/bin/env bash
# End-to-end test of the Plumbline VS Code extension in real VS Code: code-server + Debian chromium +
# playwright-core. It builds the .vsix (npm ci + npm run package in client-vscode/), installs it into a fresh
# code-server, opens a copy of workspace/, and drives the browser (drive.js): Plumbline's diagnostic in the
# Problems panel, a quick fix that clears it and changes the file on disk, and "Implement Endpoint…" with the
# server's agent pointed at a fake Messages API on 127.0.0.1 (fake_anthropic.py); then, in a second fresh
# code-server with workspace trust on, the restricted mode (diagnostics and quick fix, no agent).
#
# usage: bash tests/e2e/vscode/run.sh
# environment:
#   E2E_DIR        scratch folder (default: a new mktemp folder); tools installed there are reused on the next
#                  run with the same E2E_DIR (node24/, cs/, pw/)
#   E2E_ARTIFACTS  screenshots and logs (default: tests/e2e/vscode/artifacts)
#   PYTHON         the interpreter with plumbline installed (default: python3 on PATH)
#   E2E_SKIP_BUILD=1  reuse client-vscode/plumbline.vsix instead of building it
#   E2E_UNTRUSTED=0   skip the restricted-mode (untrusted workspace) phase
#   E2E_SERVER=stub   run stub_server.py (through plumbline.path) instead of the real server: checks the harness
#   E2E_README_SHOT=0 do not refresh client-vscode/images/screenshot.png (never refreshed when CI=true)
# Needs: root (or chromium and libkrb5-dev already installed), npm, network access to the npm registry.
# Exit status 0 and "RESULT PASS" when every step passed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
EXT_SRC=$REPO/client-vscode
CS_VERSION=4.139.1
PW_VERSION=1.65.1
E2E_DIR=${E2E_DIR:-$(mktemp -d -t plumbline-e2e.XXXXXX)}
ART=${E2E_ARTIFACTS:-$HERE/artifacts}
RUN=$E2E_DIR/run
T0=$(date +%s)

log() { echo "[e2e +$(( $(date +%s) - T0 ))s] $*"; }
die() { log "ERROR: $*"; echo "RESULT FAIL"; exit 1; }

mkdir -p "$E2E_DIR" "$ART"
E2E_DIR=$(cd "$E2E_DIR" && pwd)
rm -rf "${ART:?}"/* "$RUN"
mkdir -p "$RUN"
log "scratch folder: $E2E_DIR; artefacts: $ART"

PY_ON_PATH=${PYTHON:-$(command -v python3 || true)}
[ -n "$PY_ON_PATH" ] || die "python3 not found"
# The real executable behind any shim (pyenv), so that code-server's extension host runs the same Python.
PYTHON=$("$PY_ON_PATH" -c 'import sys; print(sys.executable)')
log "python: $PYTHON ($("$PYTHON" --version 2>&1))"

# --- system packages: chromium, and the Kerberos headers code-server's native module builds against ----------
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
need_apt=()
[ -n "$CHROMIUM" ] || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "apt-get install ${need_apt[*]}"
    apt-get update >"$ART/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}" >>"$ART/apt.log" 2>&1 \
      || { tail -20 "$ART/apt.log"; die "apt-get install ${need_apt[*]} failed"; }
    CHROMIUM=${CHROMIUM:-$(command -v chromium)}
  else
    die "missing ${need_apt[*]}: install them (apt-get install ${need_apt[*]}) or run as root"
  fi
fi
log "chromium: $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo '?'))"

# --- Node 24 (from the npm package node@24), code-server, playwright-core ------------------------------------
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
NODE24=$E2E_DIR/node24/node_modules/node/bin
if [ ! -x "$NODE24/node" ]; then
  log "installing node@24 from npm"
  mkdir -p "$E2E_DIR/node24"
  (cd "$E2E_DIR/node24" && npm install --no-save node@24 >"$ART/node24-install.log" 2>&1) \
    || { tail -20 "$ART/node24-install.log"; die "npm install node@24 failed"; }
fi
export PATH=$NODE24:$PATH
log "node: $(node --version), npm: $(npm --version)"

CS=$E2E_DIR/cs/node_modules/.bin/code-server
if [ ! -x "$CS" ]; then
  log "installing code-server@$CS_VERSION from npm (takes 2-3 minutes)"
  mkdir -p "$E2E_DIR/cs"
  (cd "$E2E_DIR/cs" && npm_config_unsafe_perm=true npm install --no-save "code-server@$CS_VERSION" \
      >"$ART/code-server-install.log" 2>&1) \
    || { tail -30 "$ART/code-server-install.log"; die "npm install code-server@$CS_VERSION failed"; }
fi
log "code-server: $(node -p "require('$E2E_DIR/cs/node_modules/code-server/package.json').version")"

PW=$E2E_DIR/pw
if [ ! -d "$PW/node_modules/playwright-core" ]; then
  log "installing playwright-core@$PW_VERSION"
  mkdir -p "$PW"
  (cd "$PW" && npm init -y >/dev/null && npm install "playwright-core@$PW_VERSION" >"$ART/playwright-install.log" 2>&1) \
    || { tail -20 "$ART/playwright-install.log"; die "npm install playwright-core failed"; }
fi

# --- the .vsix ------------------------------------------------------------------------------------------------
VSIX=$EXT_SRC/plumbline.vsix
if [ "${E2E_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$VSIX" ]; then
  log "building the extension: npm ci && npm run package"
  (cd "$EXT_SRC" && npm ci >"$ART/npm-ci.log" 2>&1) || { tail -30 "$ART/npm-ci.log"; die "npm ci failed"; }
  (cd "$EXT_SRC" && npm run package >"$ART/package.log" 2>&1) || { tail -30 "$ART/package.log"; die "npm run package failed"; }
fi
[ -f "$VSIX" ] || die "no $VSIX"
log "vsix: $VSIX ($(du -k "$VSIX" | cut -f1) KB)"

# --- the server must be importable by that Python ------------------------------------------------------------
if [ "${E2E_SERVER:-real}" = stub ]; then
  :
elif "$PYTHON" -c 'import lsp_server' 2>/dev/null; then
  log "server: $PYTHON -m lsp_server is importable"
else
  log "WARNING: $PYTHON cannot import lsp_server (pip install -e '.[dev]'): the extension will say so and the diagnostic steps fail"
fi

# --- fresh code-server instances: user settings, the .vsix, a copy of the workspace ------------------------------
SERVER_PATH=""
if [ "${E2E_SERVER:-real}" = stub ]; then
  SERVER_PATH=$RUN/plumbline-stub
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$PYTHON" "$HERE/stub_server.py" >"$SERVER_PATH"
  chmod +x "$SERVER_PATH"
  log "E2E_SERVER=stub: plumbline.path = $SERVER_PATH (NOT the real server)"
fi

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 1
  for pid in "${PIDS[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

setsid "$PYTHON" "$HERE/fake_anthropic.py" --port 0 --port-file "$RUN/fake.port" --log "$ART/fake-anthropic.log" --key test \
  >"$ART/fake-anthropic.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$RUN/fake.port" ] && break; sleep 0.1; done
[ -s "$RUN/fake.port" ] || die "the fake Messages API did not start: $(cat "$ART/fake-anthropic.out")"
FAKE_URL=http://127.0.0.1:$(cat "$RUN/fake.port")
log "fake Messages API: $FAKE_URL"
cp "$HERE/drive.js" "$PW/drive.js"

# run_phase MODE: a fresh code-server (trusted, or with workspace trust on for MODE=untrusted), the .vsix
# installed into it, a fresh copy of the workspace, then drive.js. Sets PHASE_RC.
run_phase() {
  local mode=$1 data=$RUN/$1/data ws=$RUN/$1/ws out=$ART port cs_pid trust_flag=() trust=False
  [ "$mode" = trusted ] || out=$ART/$mode
  [ "$mode" = trusted ] && trust_flag=(--disable-workspace-trust) || trust=True
  mkdir -p "$data/user/User" "$data/ext" "$out"
  cp -r "$HERE/workspace" "$ws"
  rm -rf "$ws/.plumbline_cache"; find "$ws" -name __pycache__ -prune -exec rm -rf {} + # caches a local run may have left
  port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Always pass --config: without it code-server writes a password-protected config into the home folder.
  printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" >"$data/config.yaml"
  "$PYTHON" - "$data/user/User/settings.json" "$PYTHON" "$SERVER_PATH" "$trust" <<'EOF'
import json, sys
settings = {
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": sys.argv[4] == "True",
    "extensions.ignoreRecommendations": True,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "workbench.tips.enabled": False,
    "chat.disableAIFeatures": True,
    "chat.commandCenter.enabled": False,
    "window.restoreWindows": "none",
    "workbench.enableExperiments": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "files.refactoring.autoSave": True,
    "editor.lightbulb.enabled": "on",
    "plumbline.interpreter": sys.argv[2],
    "plumbline.trace.server": "messages",
}
if sys.argv[3]:
    settings["plumbline.path"] = sys.argv[3]
with open(sys.argv[1], "w") as f:
    json.dump(settings, f, indent=2)
EOF
  log "[$mode] installing the .vsix into a fresh code-server"
  "$CS" --config "$data/config.yaml" --user-data-dir "$data/user" --extensions-dir "$data/ext" --install-extension "$VSIX" \
    >"$out/install-extension.log" 2>&1 || { cat "$out/install-extension.log"; die "code-server --install-extension failed"; }
  local installed
  installed=$("$CS" --config "$data/config.yaml" --user-data-dir "$data/user" --extensions-dir "$data/ext" \
    --list-extensions --show-versions 2>/dev/null | grep -i '^plumbline\.plumbline@' || true)
  [ -n "$installed" ] || die "the extension is not listed after install: $(cat "$out/install-extension.log")"
  log "[$mode] installed: $installed"

  env -u ANTHROPIC_AUTH_TOKEN ANTHROPIC_BASE_URL="$FAKE_URL" ANTHROPIC_API_KEY=test \
    setsid "$CS" --config "$data/config.yaml" --user-data-dir "$data/user" --extensions-dir "$data/ext" \
    --disable-telemetry --disable-update-check --disable-getting-started-override "${trust_flag[@]}" \
    "$ws" >"$out/code-server.log" 2>&1 &
  cs_pid=$!
  PIDS+=("$cs_pid")
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    kill -0 "$cs_pid" 2>/dev/null || die "code-server exited: $(tail -20 "$out/code-server.log")"
    sleep 0.2
  done
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" || die "code-server did not answer on port $port"
  log "[$mode] code-server: http://127.0.0.1:$port (pid $cs_pid)"

  set +e
  MODE=$mode WS=$ws OUT=$out CHROMIUM=$CHROMIUM CS_URL="http://127.0.0.1:$port/?folder=$ws" \
    node "$PW/drive.js" 2>&1 | tee "$out/drive.log"
  PHASE_RC=${PIPESTATUS[0]}
  set -e
  # Stop this code-server (and the language server it started); keep its logs (the Plumbline output channel).
  kill -TERM -- "-$cs_pid" 2>/dev/null || true
  sleep 1
  kill -KILL -- "-$cs_pid" 2>/dev/null || true
  [ -d "$data/user/logs" ] && cp -r "$data/user/logs" "$out/code-server-logs" 2>/dev/null || true
}

run_phase trusted
RC=$PHASE_RC
if [ "${E2E_UNTRUSTED:-1}" = 1 ]; then
  run_phase untrusted
  [ "$PHASE_RC" = 0 ] || RC=1
fi

PASSED=$(cat "$ART"/drive.log "$ART"/*/drive.log 2>/dev/null | grep -c '^STEP .*: PASS' || true)
FAILED=$(cat "$ART"/drive.log "$ART"/*/drive.log 2>/dev/null | grep -c '^STEP .*: \(FAIL\|SKIP\)' || true)
grep -h '^STEP ' "$ART"/drive.log "$ART"/*/drive.log 2>/dev/null | sed 's/^/  /' || true

if [ "${CI:-}" != true ] && [ "${E2E_README_SHOT:-1}" = 1 ] && [ -f "$ART/2-quickfix-menu.png" ] && [ "$RC" = 0 ]; then
  mkdir -p "$EXT_SRC/images"
  cp "$ART/2-quickfix-menu.png" "$EXT_SRC/images/screenshot.png"
  log "README screenshot refreshed: client-vscode/images/screenshot.png"
fi
log "done in $(( $(date +%s) - T0 ))s; artefacts in $ART"
echo "vscode-e2e: $PASSED passed, $FAILED failed"
if [ "$RC" = 0 ]; then echo "RESULT PASS"; else echo "RESULT FAIL"; fi
exit "$RC"
