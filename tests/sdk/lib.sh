# Shared by tests/sdk/run.sh and benches/sdk_compare.sh (source it; bash only).
#
#   sdk_find_emulator [PATH]   -> prints the emulator binary: PATH, $ZCRM_EMULATOR, target/release, target/debug
#   sdk_setup WORK             -> WORK/py (venv with tests/sdk/requirements.txt) and WORK/node (npm ci of
#                                 tests/sdk/package.json + package-lock.json); the installs are skipped when WORK
#                                 already holds the same pinned versions; node_sdk_check.mjs is copied in each time
#   emu_start BIN WORK [ARGS]  -> starts BIN --port 0 ARGS, sets EMU_BASE and EMU_ACCOUNTS; the emulator stops
#                                 when its stdin (a fifo held open by this shell) closes: emu_stop, or this shell's exit
#
# Nothing here talks to anything but the package registries (pip, npm) and 127.0.0.1.

SDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SDK_REPO="$(cd "$SDK_DIR/../.." && pwd)"

sdk_find_emulator() {
  local c
  for c in "${1:-}" "${ZCRM_EMULATOR:-}" "$SDK_REPO/target/release/zcrm-emulator" "$SDK_REPO/target/debug/zcrm-emulator"; do
    if [ -n "$c" ] && [ -x "$c" ]; then
      echo "$c"
      return 0
    fi
  done
  echo "no zcrm-emulator binary: pass its path, set ZCRM_EMULATOR, or 'cargo build --release -p zcrm-emulator'" >&2
  return 1
}

_sdk_stamp() { cat "$SDK_DIR/requirements.txt" "$SDK_DIR/package-lock.json" | sha256sum | cut -d' ' -f1; }

sdk_setup() {
  local work="$1" stamp
  stamp="$(_sdk_stamp)"
  mkdir -p "$work"
  if [ -f "$work/.stamp" ] && [ "$(cat "$work/.stamp")" = "$stamp" ]; then
    cp "$SDK_DIR/node_sdk_check.mjs" "$work/node/"
    return 0
  fi
  rm -f "$work/.stamp"
  [ -x "$work/py/bin/python" ] || python3 -m venv "$work/py"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/py/bin/pip" install -q -r "$SDK_DIR/requirements.txt"
  mkdir -p "$work/node"
  cp "$SDK_DIR/package.json" "$SDK_DIR/package-lock.json" "$work/node/"
  (cd "$work/node" && npm ci --no-audit --no-fund --silent)
  # ESM resolves packages from the script's own folder: the check runs from beside its node_modules.
  cp "$SDK_DIR/node_sdk_check.mjs" "$work/node/"
  echo "$stamp" >"$work/.stamp"
}

emu_start() {
  local bin="$1" work="$2"
  shift 2
  rm -f "$work/emu.in" "$work/emu.out"
  mkfifo "$work/emu.in"
  "$bin" --port 0 "$@" <"$work/emu.in" >"$work/emu.out" 2>"$work/emu.err" &
  EMU_PID=$!
  exec {EMU_FD}>"$work/emu.in"
  local i
  for i in $(seq 1 100); do
    if [ -s "$work/emu.out" ]; then break; fi
    if ! kill -0 "$EMU_PID" 2>/dev/null; then
      echo "the emulator exited: $(cat "$work/emu.err")" >&2
      return 1
    fi
    sleep 0.05
  done
  EMU_BASE="$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["base_url"])' <"$work/emu.out")"
  EMU_ACCOUNTS="$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["accounts_url"])' <"$work/emu.out")"
  case "$EMU_BASE" in
    http://127.0.0.1:*) ;;
    *) echo "unexpected emulator base URL: $EMU_BASE" >&2; return 1 ;;
  esac
}

emu_stop() {
  if [ -n "${EMU_FD:-}" ]; then
    exec {EMU_FD}>&-
    EMU_FD=
  fi
  if [ -n "${EMU_PID:-}" ]; then
    local i
    for i in $(seq 1 100); do
      kill -0 "$EMU_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
    EMU_PID=
  fi
}
