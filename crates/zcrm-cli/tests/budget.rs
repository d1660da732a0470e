//! `zcrm link --budget` in separate processes against one emulator and a real Redis: the 8-worker run (no 429
//! from our own concurrency, one token, exact state), one refresh per expiry across processes, slots freed after
//! `kill -9` within the lease time, the credit reserve (exit 1), Redis stopped mid-job (exit 3, every row with an
//! outcome; `--on-redis-error local` finishes), a wrong URL or password before any call.

#[path = "../../../tests/redis/test_redis.rs"]
mod test_redis;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use test_redis::{TestRedis, unique_prefix};
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

const PARENT: &str = "Contacts.External_Contact_ID";
const RELATED: &str = "Deals.External_Deal_ID";

fn emulator(contacts: usize, deals: usize, config: EmulatorConfig) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    seed.add_records("Deals", "External_Deal_ID", "d", deals);
    Emulator::start(EmulatorConfig { seed, ..config }).unwrap()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-budget-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CSV of rows `first..first + rows`: deal `d{i}` of contact `c{i / per_contact}`.
fn csv(dir: &Dir, name: &str, first: usize, rows: usize, per_contact: usize) -> PathBuf {
    let mut s = String::from("External_Contact_ID,External_Deal_ID\n");
    for i in first..first + rows {
        s.push_str(&format!("c{},d{i}\n", i / per_contact));
    }
    let path = dir.path(name);
    std::fs::write(&path, s).unwrap();
    path
}

/// `zcrm link` on `csv` with the emulator's credentials only, plus `extra` arguments.
fn link(emu: &Emulator, csv: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zcrm"));
    let (id, secret, refresh) = Emulator::default_credentials();
    cmd.env_clear()
        .env("ZOHO_CLIENT_ID", id)
        .env("ZOHO_CLIENT_SECRET", secret)
        .env("ZOHO_REFRESH_TOKEN", refresh)
        .env("ZOHO_BASE_URL", emu.base_url())
        .env("ZOHO_ACCOUNTS_URL", emu.accounts_url())
        .args(["link", "--csv", csv.to_str().unwrap(), "--parent", PARENT, "--related", RELATED])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Waits for `child`, killing it after `limit` (a hang fails the test instead of blocking it).
fn finish(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("zcrm did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The report's rows: (row, status, code, message).
fn report(path: &Path) -> Vec<(u64, String, String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (row, status, code, message) = (col("row"), col("status"), col("code"), col("message"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[row].parse().unwrap(), rec[status].to_owned(), rec[code].to_owned(), rec[message].to_owned())
        })
        .collect()
}

/// `zcrm budget status --json` for `prefix`.
fn status(redis: &TestRedis, prefix: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_zcrm"))
        .env_clear()
        .args(["budget", "status", "--json", "--budget", &redis.url, "--budget-prefix", prefix])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn eight_worker_processes_share_one_limit_and_one_token() {
    let Some(redis) = TestRedis::shared() else { return };
    let dir = Dir::new("eight");
    let run = |budget: Option<&str>| {
        let emu = emulator(
            80,
            8_000,
            EmulatorConfig { concurrency: 10, latency: Duration::from_millis(30), ..EmulatorConfig::default() },
        );
        let children: Vec<Child> = (0..8)
            .map(|w| {
                let csv = csv(&dir, &format!("w{w}.csv"), w * 1_000, 1_000, 100);
                let mut args = vec!["--report".to_owned(), dir.path(&format!("w{w}.report.csv")).display().to_string()];
                if let Some(prefix) = budget {
                    args.extend(["--budget", &redis.url, "--budget-prefix", prefix].map(str::to_owned));
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                link(&emu, &csv, &args).spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = finish(child, Duration::from_secs(120));
            assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
        }
        (emu.stats(), emu.relation_count(), emu.token_grants(Emulator::default_credentials().2).unwrap())
    };
    let prefix = unique_prefix("eight");
    let (stats, relations, grants) = run(Some(&prefix));
    assert_eq!(stats.rejected_concurrency, 0, "no 429 from our own concurrency: {stats:?}");
    assert!(stats.max_in_flight <= 10, "{stats:?}");
    assert_eq!(grants.grants, 1, "one token for the eight processes: {grants:?}");
    assert_eq!(relations, 8_000, "every pair linked, nothing else");
    let s = status(&redis, &prefix);
    assert_eq!((s["in_use"].as_u64(), s["credits_spent"].as_u64()), (Some(0), Some(80)), "{s}");
    for name in redis.keys(&format!("zcrm:{{{prefix}}}:*")) {
        let (id, secret, refresh) = Emulator::default_credentials();
        assert!(![id, secret, refresh].iter().any(|s| name.contains(s)), "{name}");
    }
    // The same run without the budget: the processes trip each other.
    let (alone, relations, grants) = run(None);
    assert!(alone.rejected_concurrency > 0, "{alone:?}");
    assert_eq!(grants.grants, 8, "{grants:?}");
    assert_eq!(relations, 8_000);
}

#[test]
fn processes_refresh_the_shared_token_once_per_expiry() {
    let Some(redis) = TestRedis::shared() else { return };
    let dir = Dir::new("expiry");
    // Tokens of 3 s (refreshed 0.6 s before their end), calls of 100 ms: each process runs about 6 s.
    let emu = emulator(
        400,
        4_000,
        EmulatorConfig {
            concurrency: 10,
            latency: Duration::from_millis(100),
            token_lifetime: Duration::from_secs(3),
            ..EmulatorConfig::default()
        },
    );
    let prefix = unique_prefix("expiry");
    let started = Instant::now();
    let children: Vec<Child> = (0..4)
        .map(|w| {
            let csv = csv(&dir, &format!("w{w}.csv"), w * 1_000, 1_000, 10);
            let report = dir.path(&format!("w{w}.report.csv")).display().to_string();
            let args = ["--budget", &redis.url, "--budget-prefix", &prefix, "--batch-size", "10", "--report", &report];
            link(&emu, &csv, &args).spawn().unwrap()
        })
        .collect();
    for (w, child) in children.into_iter().enumerate() {
        let out = finish(child, Duration::from_secs(120));
        let failed: Vec<_> =
            report(&dir.path(&format!("w{w}.report.csv"))).into_iter().filter(|r| r.1 != "ok").take(2).collect();
        assert_eq!(out.status.code(), Some(0), "{}{} {failed:?}", text(&out.stdout), text(&out.stderr));
    }
    let elapsed = started.elapsed();
    let grants = emu.token_grants(Emulator::default_credentials().2).unwrap();
    let stats = emu.stats();
    assert!(elapsed > Duration::from_secs(4), "the run spans expiries: {elapsed:?}");
    // One grant per expiry: never two within a token's refresh interval (2.4 s), however many processes.
    for pair in grants.grant_ms.windows(2) {
        assert!(pair[1] - pair[0] >= 1_500, "two grants {} ms apart: {grants:?}", pair[1] - pair[0]);
    }
    let most = elapsed.as_millis() as u64 / 2_400 + 2;
    assert!(grants.grants >= 2 && grants.grants <= most, "{} grants in {elapsed:?}: {grants:?}", grants.grants);
    assert_eq!((stats.tokens_throttled, stats.rejected_token), (0, 0), "{stats:?}");
    assert_eq!(emu.relation_count(), 4_000);
}

#[test]
fn a_process_killed_with_9_frees_its_slots_within_the_lease_time() {
    let Some(redis) = TestRedis::shared() else { return };
    let dir = Dir::new("kill9");
    let emu = emulator(
        100,
        10_000,
        EmulatorConfig { concurrency: 10, latency: Duration::from_millis(400), ..EmulatorConfig::default() },
    );
    let prefix = unique_prefix("kill9");
    let budget = ["--budget", redis.url.as_str(), "--budget-prefix", prefix.as_str(), "--budget-lease-ttl", "1.5"];
    let mut victim = link(&emu, &csv(&dir, "big.csv", 0, 10_000, 100), &budget).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while status(&redis, &prefix)["in_use"].as_u64() != Some(10) {
        assert!(Instant::now() < deadline, "the job never held the 10 slots");
        std::thread::sleep(Duration::from_millis(50));
    }
    victim.kill().unwrap(); // SIGKILL: no release, no clean-up
    let killed = Instant::now();
    victim.wait().unwrap();
    let right_after = status(&redis, &prefix)["in_use"].as_u64().unwrap();
    let mut freed = None;
    while freed.is_none() && killed.elapsed() < Duration::from_secs(10) {
        if status(&redis, &prefix)["in_use"].as_u64() == Some(0) {
            freed = Some(killed.elapsed());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let freed = freed.expect("the slots were never freed");
    assert!(right_after > 0, "the leases outlive the process until they expire");
    assert!(freed <= Duration::from_millis(1_500 + 400), "slots back {freed:?} after the kill (lease 1.5 s)");
    // Another process gets every slot.
    let out =
        finish(link(&emu, &csv(&dir, "small.csv", 0, 1_000, 100), &budget).spawn().unwrap(), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn the_credit_reserve_stops_the_job_with_not_attempted_rows_and_exit_1() {
    let Some(redis) = TestRedis::shared() else { return };
    let dir = Dir::new("reserve");
    let emu = emulator(100, 100, EmulatorConfig { credits: Some(100), ..EmulatorConfig::default() });
    let prefix = unique_prefix("reserve");
    let report_path = dir.path("report.csv");
    let out = link(
        &emu,
        &csv(&dir, "pairs.csv", 0, 100, 1),
        &[
            "--budget",
            &redis.url,
            "--budget-prefix",
            &prefix,
            "--reserve",
            "30",
            "--concurrency",
            "5",
            "--report",
            report_path.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("CREDIT_RESERVE"), "{}", text(&out.stdout));
    let rows = report(&report_path);
    assert_eq!(rows.len(), 100, "every row has a line");
    let used = emu.stats().credits_used;
    assert!(used <= 70, "the 30 credits of the reserve are left: {used} used");
    let skipped: Vec<_> = rows.iter().filter(|r| r.2 == "NOT_ATTEMPTED").collect();
    assert_eq!(skipped.len() as u64, 100 - used);
    assert!(skipped.iter().all(|r| r.3.contains("CREDIT_RESERVE")), "{:?}", skipped[0]);
}

#[test]
fn redis_stopped_mid_job_stops_it_with_every_row_given_an_outcome() {
    let dir = Dir::new("redis-down");
    for local in [false, true] {
        let Some(mut redis) = TestRedis::private(&[]) else { return };
        let emu = emulator(
            200,
            20_000,
            EmulatorConfig { concurrency: 10, latency: Duration::from_millis(50), ..EmulatorConfig::default() },
        );
        let report_path = dir.path(&format!("report-{local}.csv"));
        let mut args = vec!["--budget", redis.url.as_str(), "--report", report_path.to_str().unwrap()];
        if local {
            args.extend(["--on-redis-error", "local"]);
        }
        let child = link(&emu, &csv(&dir, "pairs.csv", 0, 20_000, 100), &args).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while emu.stats().api_calls < 20 {
            assert!(Instant::now() < deadline, "the job never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        redis.stop();
        let out = finish(child, Duration::from_secs(60));
        let rows = report(&report_path);
        assert_eq!(rows.len(), 20_000, "every row has an outcome");
        let ok = rows.iter().filter(|r| r.1 == "ok").count();
        if local {
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert_eq!(emu.relation_count(), 20_000);
        } else {
            assert_eq!(out.status.code(), Some(3), "{}{}", text(&out.stdout), text(&out.stderr));
            assert!(text(&out.stdout).contains("BUDGET_UNAVAILABLE"), "{}", text(&out.stdout));
            assert!(ok < 20_000, "the job stopped");
            assert_eq!(emu.relation_count(), ok, "every row reported ok is linked, none other");
            let others: Vec<_> = rows.iter().filter(|r| r.1 != "ok").collect();
            assert!(
                others.iter().all(|r| r.2 == "NOT_ATTEMPTED" && r.3.contains("BUDGET_UNAVAILABLE")),
                "{:?}",
                others[0]
            );
        }
    }
}

#[test]
fn a_wrong_redis_url_or_password_is_a_clear_error_before_any_call() {
    let dir = Dir::new("wrong");
    let emu = emulator(1, 1, EmulatorConfig::default());
    let pairs = csv(&dir, "pairs.csv", 0, 1, 1);
    let out = link(&emu, &pairs, &["--budget", "redis://127.0.0.1:1/0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("BUDGET_UNAVAILABLE"), "{}", text(&out.stderr));
    let out = link(&emu, &pairs, &["--budget", "http://127.0.0.1:6379"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("budget"), "{}", text(&out.stderr));
    let Some(redis) = TestRedis::private(&["--requirepass", "right-pass"]) else { return };
    let out = link(&emu, &pairs, &["--budget", &redis.url_with_password("wrong-pass")]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("BUDGET_AUTH") && !err.contains("wrong-pass"), "{err}");
    assert!(emu.journal().is_empty(), "no token request and no call: {:?}", emu.journal());
    // The password may come from the environment instead of the URL.
    let out = link(&emu, &pairs, &["--budget", &redis.url]).env("ZCRM_BUDGET_PASSWORD", "right-pass").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
