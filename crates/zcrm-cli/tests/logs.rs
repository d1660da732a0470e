//! `zcrm`'s logs and summary: `-v/-vv/-q`, `--log-format json` (one JSON object per line on stderr),
//! `--summary-json FILE`, the metrics at the end of the printed summary, and no secret or value in any line.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};

const SECRET_ROLE: &str = "role-value-7f3a";

fn emulator(contacts: usize, deals: usize) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "contact-ext-", contacts);
    seed.add_records("Deals", "External_Deal_ID", "deal-ext-", deals);
    Emulator::start(EmulatorConfig { seed, credits: Some(100), ..EmulatorConfig::default() }).unwrap()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-logs-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 200 pairs over 4 contacts: 2 calls of 100.
fn csv(dir: &Dir) -> String {
    let mut text = String::from("External_Contact_ID,External_Deal_ID,role\n");
    for i in 0..200 {
        text.push_str(&format!("contact-ext-{},deal-ext-{i},{SECRET_ROLE}\n", i / 50));
    }
    let p = dir.path("pairs.csv");
    std::fs::write(&p, text).unwrap();
    p
}

fn link(emu: &Emulator, secret: &str, dir: &Dir, extra: &[&str]) -> Output {
    let (id, _, refresh) = Emulator::default_credentials();
    Command::new(env!("CARGO_BIN_EXE_zcrm"))
        .env_clear()
        .env("ZOHO_CLIENT_ID", id)
        .env("ZOHO_CLIENT_SECRET", secret)
        .env("ZOHO_REFRESH_TOKEN", refresh)
        .env("ZOHO_BASE_URL", emu.base_url())
        .env("ZOHO_ACCOUNTS_URL", emu.accounts_url())
        .args(extra)
        .args(["link", "--csv", &csv(dir), "--parent", "Contacts.External_Contact_ID"])
        .args(["--related", "Deals.External_Deal_ID", "--field", "Contact_Role=role", "--batch-size", "50"])
        .args(["--concurrency", "1", "--report", &dir.path("report.csv")])
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[test]
fn json_logs_parse_line_by_line_and_the_summary_json_has_the_metrics() {
    let emu = emulator(4, 200);
    let dir = Dir::new("json");
    emu.push_fault(Fault::status(500).times(2));
    emu.push_fault(Fault::status(429));
    let summary = dir.path("summary.json");
    let out = link(
        &emu,
        Emulator::default_credentials().1,
        &dir,
        &["-vv", "--log-format", "json", "--summary-json", &summary],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // Results unchanged on stdout; the metrics follow the first line.
    let first = stdout.lines().next().unwrap();
    assert!(first.starts_with("linked 200 of 200 rows in "), "{stdout}");
    assert!(stdout.contains("calls: latency p50 ") && stdout.contains("retries: 1 after 429, 2 after 5xx"), "{stdout}");
    assert!(stdout.contains("tokens: 1 refreshed, 0 throttle waits; credits: "), "{stdout}");
    // Every log line on stderr is one JSON object (progress lines, if any, start with "zcrm:").
    let events: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.starts_with("zcrm:"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let named = |n: &str| events.iter().filter(|e| e["event"] == n).count();
    assert_eq!((named("job.started"), named("job.finished")), (1, 1));
    assert_eq!((named("http.request.sent"), named("http.request.finished")), (7, 7), "4 calls + 3 retries");
    assert_eq!((named("retry.scheduled"), named("http.rate_limited"), named("token.refreshed")), (3, 1, 1));
    assert!(events.iter().all(|e| e["ts"].as_str().is_some_and(|t| t.ends_with('Z')) && e["target"].is_string()));
    let finished = events.iter().find(|e| e["event"] == "job.finished").unwrap();
    assert_eq!((finished["level"].as_str(), finished["rows"].as_u64()), (Some("info"), Some(200)));
    assert!(!stderr.contains(SECRET_ROLE) && !stderr.contains("contact-ext-") && !stderr.contains("deal-ext-"));
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!((s["rows"].as_u64(), s["succeeded"].as_u64(), s["calls"].as_u64()), (Some(200), Some(200), Some(7)));
    assert_eq!(s["retries_by_cause"], serde_json::json!({"429": 1, "5xx": 2, "transport": 0, "timeout": 0}));
    assert_eq!((s["token_refreshes"].as_u64(), s["exit_status"].as_i64()), (Some(1), Some(0)));
    // 7 calls reached the emulator, which charges each; it reports the rest once half of its 100 are used:
    // not yet here, so the client has nothing to report. 6 answers other than the 429 are counted.
    assert_eq!((s["credits_used"].as_u64(), s["credits_remaining"].clone()), (Some(6), Value::Null));
    let latency = &s["latency_ms"];
    assert!(latency["p50"].as_f64().unwrap() > 0.0 && latency["p95"].as_f64() <= latency["max"].as_f64(), "{s}");
}

#[test]
fn levels_follow_the_flags_and_text_lines_name_no_secret() {
    let emu = emulator(4, 200);
    let dir = Dir::new("levels");
    let quiet_default = link(&emu, Emulator::default_credentials().1, &dir, &[]);
    assert_eq!(quiet_default.status.code(), Some(0));
    let err = text(&quiet_default.stderr);
    assert!(!err.contains("zcrm_extid::"), "nothing at warn in a clean job: {err}");
    let v = link(&emu, Emulator::default_credentials().1, &dir, &["-v"]);
    let err = text(&v.stderr);
    assert!(err.contains(" INFO  zcrm_extid::bulk link job finished: 200 rows"), "{err}");
    assert!(!err.contains("http.request") && !err.contains("DEBUG"), "-v stops at info: {err}");
    // A wrong secret: a warning and the breaker's error by default; only the error with -q; never the secret.
    let wrong = link(&emu, "not-the-secret-91", &dir, &[]);
    let err = text(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(3));
    assert!(err.contains("WARN  zcrm_extid::auth token refresh failed: OAUTH_INVALID_CLIENT"), "{err}");
    assert!(err.contains("ERROR zcrm_extid::bulk circuit breaker opened by OAUTH_INVALID_CLIENT"), "{err}");
    let quiet = link(&emu, "not-the-secret-91", &dir, &["-q", "-vv"]);
    assert_eq!(quiet.status.code(), Some(2), "-q and -v conflict: a usage error");
    let quiet = link(&emu, "not-the-secret-91", &dir, &["-q"]);
    let err = text(&quiet.stderr);
    assert!(err.contains("ERROR zcrm_extid::bulk") && !err.contains("WARN "), "{err}");
    let debug = link(&emu, "not-the-secret-91", &dir, &["-vv"]);
    for out in [&wrong, &quiet, &debug] {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("not-the-secret-91") && !all.contains(SECRET_ROLE), "{all}");
    }
}
