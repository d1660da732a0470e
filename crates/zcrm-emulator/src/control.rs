//! Control routes under `/__emulator/` (the same controls as the library API of [`crate::Emulator`]):
//!
//! | route | does |
//! |---|---|
//! | `GET /__emulator/state` | the state as JSON, with `stats` and `token_grants` (per refresh token: grants, throttled, evicted, grant times; everything: slow for a million records) |
//! | `GET /__emulator/stats` | `stats`, `token_grants`, the record count of each module and the relation count (cheap to poll during a run, at any size) |
//! | `GET /__emulator/records/{Module}?fields=F1,F2` | `{"records": [[id, F1, F2], ...]}` in id order (a field a record lacks is `null`): a compact dump to check a big job's result |
//! | `POST /__emulator/reset` | back to the initial seed; faults, journal and stats cleared |
//! | `POST /__emulator/seed` (body: a seed) | replace the state |
//! | `POST /__emulator/records/{Module}` (body: `{"data":[{...}]}`) | add records (all or nothing); answers their ids |
//! | `GET /__emulator/journal`, `DELETE /__emulator/journal` | the request journal (Authorization redacted), or clear it |
//! | `GET /__emulator/faults`, `POST /__emulator/faults` (one fault or a list), `DELETE /__emulator/faults` | the fault queue |
//! | `POST /__emulator/expire-tokens` | expire every access token now |
//! | `GET /__emulator/config`, `PATCH /__emulator/config` | runtime settings: `latency_ms`, `latency_max_ms`, `concurrency`, `sub_concurrency`, `credits`, `token_lifetime_secs`, `token_throttle`, `token_throttle_window_secs`, `api_domain` (of token replies; `null`: the emulator's own URL), `page_token_ttl_secs` |

use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::http::{Request, Response};
use crate::seed::Seed;
use crate::server::{Shared, Stats, lock};

fn ok(value: Value) -> Response {
    Response::json(200, &value)
}

fn bad(message: impl Into<String>) -> Response {
    Response::json(400, &json!({"error": message.into()}))
}

/// Handles a control request.
pub(crate) fn handle(shared: &Shared, request: &Request) -> Response {
    let path = request.path.trim_start_matches("/__emulator").trim_matches('/');
    let body = || serde_json::from_slice::<Value>(&request.body).map_err(|e| bad(format!("body is not JSON: {e}")));
    match (request.method.as_str(), path) {
        ("GET", "state") => {
            let mut dump = lock(&shared.org).dump();
            dump["stats"] = serde_json::to_value(lock(&shared.stats).clone()).expect("json");
            dump["token_grants"] = serde_json::to_value(lock(&shared.tokens).grants()).expect("json");
            ok(dump)
        }
        ("GET", "stats") => {
            let (records, relations) = {
                let org = lock(&shared.org);
                let (records, relations) = org.counts();
                (json!(records), relations)
            };
            let stats = lock(&shared.stats).clone();
            let grants = serde_json::to_value(lock(&shared.tokens).grants()).expect("json");
            ok(json!({"stats": stats, "token_grants": grants, "records": records, "relations": relations}))
        }
        ("GET", p) if p.starts_with("records/") => {
            let module = &p["records/".len()..];
            let fields: Vec<&str> = request
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("fields="))
                .map(|f| f.split(',').filter(|f| !f.is_empty()).collect())
                .unwrap_or_default();
            match lock(&shared.org).table(module, &fields) {
                Some(rows) => ok(json!({"records": rows})),
                None => Response::json(404, &json!({"error": format!("no module {module:?}")})),
            }
        }
        ("POST", "reset") => {
            let seed = lock(&shared.seed).clone();
            if let Err(e) = shared.load(seed) {
                return bad(e);
            }
            lock(&shared.faults).clear();
            lock(&shared.journal).clear();
            *lock(&shared.stats) = Stats::default();
            ok(json!({"reset": true}))
        }
        ("POST", "seed") => {
            let text = String::from_utf8_lossy(&request.body);
            match Seed::from_json(&text).and_then(|s| shared.load(s)) {
                Ok(()) => ok(json!({"loaded": true})),
                Err(e) => bad(e),
            }
        }
        ("POST", p) if p.starts_with("records/") => {
            let module = &p["records/".len()..];
            let body = match body() {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Some(records) = body.get("data").and_then(Value::as_array) else {
                return bad("expected {\"data\": [...]}");
            };
            let mut org = lock(&shared.org);
            // All or nothing: a 400 must not leave half of the records in.
            let mut staged = org.clone();
            let mut ids = Vec::new();
            for r in records {
                let Value::Object(m) = r else { return bad("records must be objects") };
                match staged.insert_record(module, m.clone()) {
                    Ok(id) => ids.push(id),
                    Err(e) => return bad(e),
                }
            }
            *org = staged;
            ok(json!({"ids": ids}))
        }
        ("GET", "journal") => ok(serde_json::to_value(lock(&shared.journal).entries()).expect("json")),
        ("DELETE", "journal") => {
            lock(&shared.journal).clear();
            ok(json!({"cleared": true}))
        }
        ("GET", "faults") => ok(serde_json::to_value(lock(&shared.faults).pending()).expect("json")),
        ("POST", "faults") => {
            let body = match body() {
                Ok(b) => b,
                Err(r) => return r,
            };
            let list = if body.is_array() { body } else { Value::Array(vec![body]) };
            match serde_json::from_value::<Vec<Fault>>(list) {
                Ok(faults) => {
                    let n = faults.len();
                    let mut q = lock(&shared.faults);
                    faults.into_iter().for_each(|f| q.push(f));
                    ok(json!({"queued": n}))
                }
                Err(e) => bad(format!("invalid fault: {e}")),
            }
        }
        ("DELETE", "faults") => {
            lock(&shared.faults).clear();
            ok(json!({"cleared": true}))
        }
        ("POST", "expire-tokens") => {
            lock(&shared.tokens).expire_all();
            ok(json!({"expired": true}))
        }
        ("GET", "config") => ok(serde_json::to_value(lock(&shared.runtime).clone()).expect("json")),
        ("PATCH", "config") => {
            let patch = match body() {
                Ok(Value::Object(m)) => m,
                Ok(_) => return bad("expected a JSON object"),
                Err(r) => return r,
            };
            let mut rt = lock(&shared.runtime);
            let mut current = match serde_json::to_value(rt.clone()).expect("json") {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            for (k, v) in patch {
                if !current.contains_key(&k) {
                    return bad(format!("unknown setting {k:?}"));
                }
                current.insert(k, v);
            }
            match serde_json::from_value(Value::Object(current)) {
                Ok(new) => {
                    *rt = new;
                    ok(serde_json::to_value(rt.clone()).expect("json"))
                }
                Err(e) => bad(format!("invalid setting: {e}")),
            }
        }
        _ => Response::json(404, &json!({"error": format!("no control route {} /__emulator/{path}", request.method)})),
    }
}
