#!/usr/bin/env bash
# Per-call client time with nothing listening, the core of REF (default: main) against the working tree's, in ONE
# process (both versions linked side by side, interleaved rounds, medians), with a canned answer (no network):
# what the events cost a user who does not listen to them. Builds under target/before-after (ignored by git).
#   benches/before_after.sh [REF]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ref="${1:-main}"
dir=target/before-after
rm -rf "$dir" && mkdir -p "$dir/old" "$dir/bench/src"
git archive "$ref" crates/zcrm-extid | tar -x -C "$dir/old"
python3 - "$dir" <<'EOF'
import sys
d = sys.argv[1]
root = open('Cargo.toml').read()
cut = lambda a, b: root[root.index(a):root.index(b)]
deps = cut('[workspace.dependencies]', '[workspace.lints.rust]')
deps = '\n'.join(l for l in deps.splitlines() if not l.startswith(('zcrm-extid ', 'zcrm-emulator ')))
open(f'{d}/Cargo.toml', 'w').write('[workspace]\nresolver = "3"\nmembers = ["old/crates/zcrm-extid", "bench"]\n\n'
    + cut('[workspace.package]', '[workspace.dependencies]') + deps + '\n'
    + cut('[workspace.lints.rust]', '[profile.release]') + '[profile.release]\nlto = "thin"\n')
p = f'{d}/old/crates/zcrm-extid/Cargo.toml'
s = open(p).read().replace('name = "zcrm-extid"', 'name = "zcrm-extid-old"', 1)
open(p, 'w').write(s[:s.index('[dev-dependencies]')] + '[lints]\nworkspace = true\n')
open(f'{d}/bench/Cargo.toml', 'w').write('''[package]
name = "before-after"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
old = { path = "../old/crates/zcrm-extid", package = "zcrm-extid-old" }
new = { path = "../../../crates/zcrm-extid", package = "zcrm-extid" }
serde_json = "1"
''')
EOF
cat > "$dir/bench/src/main.rs" <<'EOF'
use std::sync::Arc;
use std::time::Instant;

macro_rules! client_of {
    ($k:ident) => {{
        #[derive(Debug)]
        struct Canned(Vec<u8>);
        impl $k::transport::Transport for Canned {
            fn send(&self, _: $k::transport::HttpRequest<'_>) -> $k::Result<$k::transport::HttpResponse> {
                let headers = vec![("content-type".into(), "application/json;charset=UTF-8".into())];
                Ok($k::transport::HttpResponse { status: 200, headers, body: self.0.clone() })
            }
        }
        let body = serde_json::json!({"data": [{"code": "SUCCESS", "details": {"id": "1"},
            "message": "relation added", "status": "success"}]});
        let c = $k::Client::builder().access_token("t").base_url("http://127.0.0.1:9")
            .transport(Arc::new(Canned(body.to_string().into_bytes()))).build().unwrap();
        let parent = $k::Parent::external("External_Contact_ID", "c0").unwrap();
        let r = $k::UpdateRelated::builder("Contacts", parent, "Deals").related_by_external("External_Deal_ID")
            .record(serde_json::json!({"External_Deal_ID": "d0"})).build().unwrap();
        move || { c.update_related(&r).unwrap(); }
    }};
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let (old, new) = (client_of!(old), client_of!(new));
    let calls = 20_000;
    let (mut to, mut tn) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        let t = Instant::now();
        (0..calls).for_each(|_| old());
        to.push(t.elapsed().as_secs_f64() * 1e6 / calls as f64);
        let t = Instant::now();
        (0..calls).for_each(|_| new());
        tn.push(t.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    let (o, n) = (median(to), median(tn));
    println!("per call, canned answer, nothing listening: before {o:.3} us, now {n:.3} us = {:.3}x", n / o);
}
EOF
(cd "$dir" && cargo build --release --quiet && ./target/release/before-after)
