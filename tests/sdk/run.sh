#!/usr/bin/env bash
# Outside check of zcrm-emulator's fidelity: Zoho's official SDKs (Python zohocrmsdk8-0, Node
# @zohocrm/nodejs-sdk-8.0, pinned in requirements.txt / package-lock.json) run their related-records update
# against the emulator binary, unchanged apart from their documented configuration (a custom Environment,
# updateAPIDomain off). Each check asserts on the SDK's parsed answer, on what it sent (journal) and on the
# emulator's state (GET /__emulator/state).
#
#   tests/sdk/run.sh [EMULATOR_BINARY]
#
# The binary: the argument, $ZCRM_EMULATOR, target/release or target/debug. The SDKs are installed under
# $SDK_WORK (default target/sdk-check, gitignored), once; later runs reuse them. Needs python3 (venv) and
# node >= 18 + npm. Exit 0 if both checks pass.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Nothing may leave 127.0.0.1: no proxy from the environment.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
t0=$SECONDS
bin="$(sdk_find_emulator "${1:-}")"
work="${SDK_WORK:-$SDK_REPO/target/sdk-check}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

echo "=== installing the pinned SDKs in $work (skipped if present)"
sdk_setup "$work"
echo "=== starting $bin"
trap emu_stop EXIT
emu_start "$bin" "$work"
echo "emulator at $EMU_BASE"

passed=0 failed=0
echo "=== Python SDK (zohocrmsdk8-0)"
rm -rf "$work/py-run"
if "$work/py/bin/python" "$SDK_DIR/python_sdk_check.py" --base-url "$EMU_BASE" --accounts-url "$EMU_ACCOUNTS" \
  --workdir "$work/py-run"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "=== Node SDK (@zohocrm/nodejs-sdk-8.0)"
rm -rf "$work/node-run"
if node "$work/node/node_sdk_check.mjs" --base-url "$EMU_BASE" --accounts-url "$EMU_ACCOUNTS" \
  --workdir "$work/node-run"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

emu_stop
echo "sdk checks took $((SECONDS - t0))s"
echo "sdk-checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
