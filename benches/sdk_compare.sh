#!/usr/bin/env bash
# Zoho's official SDKs (Python zohocrmsdk8-0, Node @zohocrm/nodejs-sdk-8.0; pinned in tests/sdk/) measured
# against zcrm-emulator on loopback with no added latency:
#   * per-call wall time of N sequential related-records updates (case A of the docs page) after a warm-up,
#     RUNS fresh processes each; next to the raw keep-alive floor (the same PUT, one persistent connection,
#     Python http.client and Node http with a keep-alive agent);
#   * TCP connections opened during those N updates (strace -f -e connect on the SDK process, counted inside
#     the timed window) and files opened per update (openat);
#   * hidden metadata calls (the emulator's journal): in a fresh process, and per update once warm;
#   * api_domain: where the SDK's calls go when the token reply's api_domain differs from the configured
#     base URL, (a) a non-Zoho URL, (b) https://www.zohoapis.com, in the SDK's stock configuration and in the
#     checks' (update_api_domain off). (b) runs only inside a private network namespace (unshare -mn: loopback
#     only, /etc/hosts bind-mounted there to send Zoho's hosts to 127.0.0.1, where nothing listens on 443), so
#     nothing can leave the machine; without unshare (not root) it is skipped.
#
#   benches/sdk_compare.sh [EMULATOR_BINARY]        (N=200 WARMUP=20 RUNS=3 SDK_WORK=target/sdk-check)
#
# Prints a table and writes $SDK_WORK/compare/summary.json. Needs python3, node + npm, strace (for the
# connection counts; skipped without it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../tests/sdk/lib.sh"
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
N="${N:-200}"
WARMUP="${WARMUP:-20}"
RUNS="${RUNS:-3}"

# --- (b) of the api_domain probe, run by this script inside `unshare -mn` -----------------------------------
if [ "${1:-}" = "__netns_probe" ]; then
  bin="$2" work="$3" out="$4"
  # Refuse to go on unless this is a namespace with nothing but loopback.
  links="$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
  if [ "$links" != "lo " ]; then
    echo "not an isolated network namespace (links: $links): refusing the probe" >&2
    exit 1
  fi
  ip link set lo up
  printf '127.0.0.1 localhost\n127.0.0.1 www.zohoapis.com accounts.zoho.com content.zohoapis.com\n' >"$work/netns-hosts"
  mount --bind "$work/netns-hosts" /etc/hosts
  trap emu_stop EXIT
  emu_start "$bin" "$work"
  for cfg in stock checks; do
    rm -rf "$work/probe-py" "$work/probe-node"
    "$work/py/bin/python" "$SDK_DIR/python_sdk_check.py" --base-url "$EMU_BASE" --accounts-url "$EMU_ACCOUNTS" \
      --workdir "$work/probe-py" --probe-api-domain https://www.zohoapis.com --probe-config "$cfg" 2>/dev/null \
      >>"$out"
    node "$work/node/node_sdk_check.mjs" --base-url "$EMU_BASE" --accounts-url "$EMU_ACCOUNTS" \
      --workdir "$work/probe-node" --probe-api-domain https://www.zohoapis.com --probe-config "$cfg" 2>/dev/null \
      >>"$out"
  done
  exit 0
fi

bin="$(sdk_find_emulator "${1:-}")"
work="${SDK_WORK:-$SDK_REPO/target/sdk-check}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
out="$work/compare"
rm -rf "$out"
mkdir -p "$out"
echo "installing the pinned SDKs in $work (skipped if present)" >&2
sdk_setup "$work"
trap emu_stop EXIT
emu_start "$bin" "$work"
port="${EMU_BASE##*:}"
echo "emulator $EMU_BASE; N=$N WARMUP=$WARMUP RUNS=$RUNS; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# --- the raw keep-alive floor ----------------------------------------------------------------------------------
"$work/py/bin/python" - "$EMU_BASE" "$N" "$WARMUP" >>"$out/floor.jsonl" <<'PY'
import http.client, json, sys, time
base, n, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
host, port = base.split("//")[1].split(":")
body = json.dumps({"data": [{"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}]})
headers = {"Authorization": "Zoho-oauthtoken 1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf",
           "X-EXTERNAL": "Contacts.External_Contact_ID,Deals.External_Deal_ID", "Content-Type": "application/json"}
c = http.client.HTTPConnection(host, int(port))
def put():
    c.request("PUT", "/crm/v8/Contacts/extcontact3/Deals", body, headers)
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
for _ in range(warmup): put()
t = []
for _ in range(n):
    t0 = time.perf_counter(); put(); t.append(time.perf_counter() - t0)
t.sort()
print(json.dumps({"client": "python http.client keep-alive", "n": n, "mean_ms": round(sum(t) / n * 1000, 3),
                  "p50_ms": round(t[n // 2] * 1000, 3), "p95_ms": round(t[int(n * 0.95) - 1] * 1000, 3)}))
PY
node - "$EMU_BASE" "$N" "$WARMUP" >>"$out/floor.jsonl" <<'JS'
const http = require("node:http");
const [base, n, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ data: [{ External_Deal_ID: "extdeal3", Contact_Role: "111111000000026002" }] });
const headers = { Authorization: "Zoho-oauthtoken 1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf",
  "X-EXTERNAL": "Contacts.External_Contact_ID,Deals.External_Deal_ID", "Content-Type": "application/json" };
const put = () => new Promise((ok, fail) => {
  const req = http.request(`${base}/crm/v8/Contacts/extcontact3/Deals`, { method: "PUT", agent, headers }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 200 ? ok() : fail(new Error(`HTTP ${res.statusCode}`))));
  });
  req.on("error", fail);
  req.end(body);
});
(async () => {
  for (let i = 0; i < warmup; i++) await put();
  const t = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await put(); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  const r = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({ client: "node http keep-alive agent", n, mean_ms: r(t.reduce((s, x) => s + x, 0) / n),
    p50_ms: r(t[Math.floor(n / 2)]), p95_ms: r(t[Math.floor(n * 0.95) - 1]) }));
  agent.destroy();
})();
JS

# --- the SDKs: timing runs, then one run under strace ----------------------------------------------------------
py_cmd=("$work/py/bin/python" "$SDK_DIR/python_sdk_check.py" --base-url "$EMU_BASE" --accounts-url "$EMU_ACCOUNTS")
node_cmd=(node "$work/node/node_sdk_check.mjs" --base-url "$EMU_BASE" --accounts-url "$EMU_ACCOUNTS")
py_run() { "${py_cmd[@]}" "$@"; }
node_run() { "${node_cmd[@]}" "$@"; }
for sdk in py node; do
  for r in $(seq 1 "$RUNS"); do
    rm -rf "$work/bench-$sdk"
    "${sdk}_run" --workdir "$work/bench-$sdk" --bench "$N" --warmup "$WARMUP" | tail -n 1 >>"$out/bench-$sdk.jsonl"
  done
  if command -v strace >/dev/null; then
    rm -rf "$work/bench-$sdk"
    if [ "$sdk" = py ]; then cmd=("${py_cmd[@]}"); else cmd=("${node_cmd[@]}"); fi
    strace -f --seccomp-bpf -ttt -e trace=connect,openat -o "$out/strace-$sdk.txt" \
      "${cmd[@]}" --workdir "$work/bench-$sdk" --bench "$N" --warmup "$WARMUP" | tail -n 1 >"$out/strace-bench-$sdk.json"
  fi
done

# --- api_domain: (a) a non-Zoho api_domain, on this emulator -----------------------------------------------------
for cfg in stock checks; do
  rm -rf "$work/probe-py" "$work/probe-node"
  py_run --workdir "$work/probe-py" --probe-api-domain http://127.0.0.1:9 --probe-config "$cfg" >>"$out/api_domain.jsonl"
  node_run --workdir "$work/probe-node" --probe-api-domain http://127.0.0.1:9 --probe-config "$cfg" >>"$out/api_domain.jsonl"
done
emu_stop
# --- api_domain: (b) https://www.zohoapis.com, only inside a private network namespace ---------------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -mn true 2>/dev/null; then
  unshare -mn bash "$0" __netns_probe "$bin" "$work" "$out/api_domain.jsonl" ||
    echo "the namespaced api_domain probe failed" >&2
else
  echo "no unshare -mn (needs root): the zohoapis api_domain probe is skipped" >&2
fi

# --- summary ---------------------------------------------------------------------------------------------------
python3 - "$out" "$port" "$N" <<'PY'
import json, re, statistics, sys, os
out, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def jl(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
summary = {"floor": jl("floor.jsonl"), "sdks": {}, "api_domain": jl("api_domain.jsonl")}
line = re.compile(r"^\d+\s+(\d+\.\d+)\s+(connect|openat)\((.*)")
for sdk, name in (("py", "python"), ("node", "node")):
    runs = jl(f"bench-{sdk}.jsonl")
    s = {"runs": runs, "mean_ms_median": statistics.median(r["mean_ms"] for r in runs),
         "p50_ms_median": statistics.median(r["p50_ms"] for r in runs),
         "metadata_calls_per_update_warm": sum(r["metadata_calls"] for r in runs) / sum(r["n"] for r in runs),
         "token_calls_warm": sum(r["token_calls"] for r in runs),
         "fresh_process_metadata_calls": runs[0]["fresh_process_metadata_calls"]}
    st = os.path.join(out, f"strace-{sdk}.txt")
    if os.path.exists(st):
        b = json.load(open(os.path.join(out, f"strace-bench-{sdk}.json")))
        conns = opens = 0
        for l in open(st):
            m = line.match(l)
            if not m or not (b["t_start"] <= float(m.group(1)) <= b["t_end"]):
                continue
            if m.group(2) == "connect" and f"htons({port})" in m.group(3):
                conns += 1
            elif m.group(2) == "openat":
                opens += 1
        s["connections_in_timed_window"] = conns
        s["openat_per_update"] = round(opens / b["n"], 2)
    summary["sdks"][name] = s
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(f"\nper-call wall time, N={n} sequential updates after warm-up (median over runs of the run's mean / p50):")
for f in summary["floor"]:
    print(f"  {f['client']:<34} mean {f['mean_ms']:7.3f} ms   p50 {f['p50_ms']:7.3f} ms")
for name, s in summary["sdks"].items():
    runs = ", ".join(f"{r['mean_ms']:.2f}" for r in s["runs"])
    print(f"  {name + ' SDK':<34} mean {s['mean_ms_median']:7.3f} ms   p50 {s['p50_ms_median']:7.3f} ms   (run means: {runs})")
print(f"\nTCP connections opened during the {n} timed updates / files opened per update / metadata calls:")
for name, s in summary["sdks"].items():
    print(f"  {name + ' SDK':<12} connections {s.get('connections_in_timed_window', 'n/a')}   openat/update {s.get('openat_per_update', 'n/a')}"
          f"   metadata calls per warm update {s['metadata_calls_per_update_warm']}   fresh process: {', '.join(s['fresh_process_metadata_calls'])}")
print("\napi_domain of the token reply vs the configured base URL:")
for p in summary["api_domain"]:
    went = "stayed on the emulator" if p["environment_url_after"] and p["environment_url_after"].startswith("http://127.0.0.1") else f"switched to {p['environment_url_after']}"
    print(f"  {p['sdk']:<6} {p['config']:<32} api_domain {p['token_reply_api_domain']:<26} -> {went}; updates: {'; '.join(u[:60] for u in p['updates'])}")
print(f"\nraw results: {out}")
PY
