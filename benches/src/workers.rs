//! Many processes, one org (issue 14): N `zcrm link` processes, each on its own CSV, against one emulated org,
//! with and without `--budget` (a Redis shared by all), a `kill -9` of one of them, and the Redis cost per call.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zcrm_extid::auth::TokenPolicy;
use zcrm_extid::budget::{BudgetConfig, SharedBudget};
use zcrm_extid::{Client, Credentials, Method, Parent, UpdateRelated};

use crate::emulator::{EmulatorProcess, sibling};
use crate::{emulator_bin, print_row, state_matches};

/// The Redis of the run: `ZCRM_TEST_REDIS_URL` (as `.ci/run` sets), or a `redis-server` of our own.
pub struct Redis {
    child: Option<Child>,
    pub url: String,
}

impl Redis {
    pub fn start() -> Option<Redis> {
        if let Ok(url) = std::env::var("ZCRM_TEST_REDIS_URL").or_else(|_| std::env::var("ZCRM_BENCH_REDIS_URL")) {
            return Some(Redis { child: None, url });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Redis { child: Some(child), url: format!("redis://127.0.0.1:{port}") })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("bench-{name}-{}-{nanos}", std::process::id())
}

/// The shape of a run.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub workers: usize,
    pub rows: usize,
    pub latency_ms: u64,
    pub concurrency: usize,
    pub token_lifetime: u64,
    pub lease_ttl: f64,
}

struct Run {
    elapsed: Duration,
    /// The median rate (rows/s) of the 250 ms intervals in the middle 60% of the run (all processes at work).
    steady: f64,
    /// Seconds from the first call to the last (250 ms resolution).
    working: f64,
    stats: Value,
    exact: bool,
    exits: Vec<Option<i32>>,
    /// With a kill: when the victim's slots were back (after the kill), the others' rate until then, and after.
    recovery: Option<(Duration, f64, Option<f64>)>,
}

fn emulator(s: &Shape) -> EmulatorProcess {
    let total = s.workers * s.rows;
    let args: Vec<String> = [
        "--latency-ms",
        &s.latency_ms.to_string(),
        "--concurrency",
        &s.concurrency.to_string(),
        "--token-lifetime",
        &s.token_lifetime.to_string(),
        "--journal",
        "0",
        "--generate",
        &format!("Contacts.External_Contact_ID=c:{}", total.div_ceil(100)),
        "--generate",
        &format!("Deals.External_Deal_ID=d:{total}"),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    EmulatorProcess::start(&emulator_bin(), &args)
}

fn write_csv(path: &Path, rows: std::ops::Range<usize>) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("csv"));
    writeln!(w, "External_Contact_ID,External_Deal_ID").expect("write");
    for i in rows {
        writeln!(w, "c{},d{i}", i / 100).expect("write");
    }
}

fn zcrm(emu: &EmulatorProcess, csv: &Path, report: &Path, budget: Option<(&str, &str, f64)>) -> Command {
    let mut cmd = Command::new(sibling("zcrm"));
    cmd.env_clear()
        .env("ZOHO_CLIENT_ID", "1000.EMULATORCLIENTID")
        .env("ZOHO_CLIENT_SECRET", "emulator-client-secret")
        .env("ZOHO_REFRESH_TOKEN", "1000.emulator.refresh.token")
        .env("ZOHO_BASE_URL", &emu.base_url)
        .env("ZOHO_ACCOUNTS_URL", &emu.accounts_url)
        .args(["link", "--parent", "Contacts.External_Contact_ID", "--related", "Deals.External_Deal_ID"])
        .arg("--csv")
        .arg(csv)
        .arg("--report")
        .arg(report)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((url, prefix, ttl)) = budget {
        cmd.args(["--budget", url, "--budget-prefix", prefix, "--budget-lease-ttl", &ttl.to_string()]);
    }
    cmd
}

fn run(s: &Shape, redis: Option<&Redis>, kill: bool, dir: &Path) -> Run {
    let emu = emulator(s);
    let csvs: Vec<PathBuf> = (0..s.workers)
        .map(|w| {
            let p = dir.join(format!("w{w}.csv"));
            write_csv(&p, w * s.rows..(w + 1) * s.rows);
            p
        })
        .collect();
    let org = prefix("workers");
    let budget = redis.map(|r| (r.url.as_str(), org.as_str(), s.lease_ttl));
    let started = Instant::now();
    let mut children: Vec<Child> = csvs
        .iter()
        .enumerate()
        .map(|(w, csv)| zcrm(&emu, csv, &dir.join(format!("w{w}.report.csv")), budget).spawn().expect("zcrm"))
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (mut recovery, mut exits, mut samples) = (None, Vec::new(), Vec::new());
    std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let calls = emu.control(Method::Get, "stats", None)["stats"]["api_calls"].as_u64().unwrap_or(0);
                samples.push((started.elapsed().as_secs_f64(), calls));
                std::thread::sleep(Duration::from_millis(250));
            }
            samples
        });
        if kill && let Some(redis) = redis {
            recovery = Some(kill_one(s, &emu, redis, &org, &mut children[0]));
        }
        exits = children.iter_mut().map(|c| c.wait().ok().and_then(|st| st.code())).collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        samples = sampler.join().expect("sampler");
    });
    let elapsed = started.elapsed();
    let mid: Vec<f64> = samples
        .windows(2)
        .filter(|w| w[0].0 >= elapsed.as_secs_f64() * 0.2 && w[1].0 <= elapsed.as_secs_f64() * 0.8)
        .map(|w| (w[1].1 - w[0].1) as f64 * 100.0 / (w[1].0 - w[0].0))
        .collect();
    let steady = if mid.is_empty() { 0.0 } else { crate::measure::median(&mut mid.clone()) };
    // From the first call seen to the last (sampled every 250 ms): the workers' time at work.
    let last_calls = samples.last().map_or(0, |x| x.1);
    let first = samples.iter().find(|x| x.1 > 0).map_or(0.0, |x| x.0);
    let last = samples.iter().find(|x| x.1 == last_calls).map_or(elapsed.as_secs_f64(), |x| x.0);
    let working = (last - first).max(0.25);
    let state = emu.control(Method::Get, "state", None);
    let exact = !kill && state_matches(&state, s.workers * s.rows);
    let mut stats = state["stats"].clone();
    stats["token_grants"] = state["token_grants"].clone();
    Run { elapsed, steady, working, stats, exact, exits, recovery }
}

/// Kills worker 0 at a sixth of the run; returns when its slots were back, the others' rate (rows/s) until then
/// and after (if they were still at work).
fn kill_one(
    s: &Shape,
    emu: &EmulatorProcess,
    redis: &Redis,
    org: &str,
    victim: &mut Child,
) -> (Duration, f64, Option<f64>) {
    let calls_total = (s.workers * s.rows).div_ceil(100) as u64;
    let calls = || emu.control(Method::Get, "stats", None)["stats"]["api_calls"].as_u64().unwrap_or(0);
    while calls() < calls_total / 6 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = BudgetConfig { prefix: Some(org.to_owned()), ..BudgetConfig::new(redis.url.clone()) };
    let budget = SharedBudget::connect(config, org, &Credentials::access_token("bench"), TokenPolicy::default())
        .expect("budget");
    let pid = victim.id();
    let mine = |b: &SharedBudget| {
        b.status().map(|st| st.holders.iter().filter(|h| h.holder.ends_with(&format!(":{pid}"))).count()).unwrap_or(0)
    };
    while mine(&budget) == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = victim.kill();
    let killed = Instant::now();
    let at_kill = calls();
    let _ = victim.wait();
    while mine(&budget) > 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let back = killed.elapsed();
    let at_back = calls();
    let during = (at_back - at_kill) as f64 * 100.0 / back.as_secs_f64();
    // After: over the next 2 s, or until the calls stop (the others finished).
    let (t0, mut last, mut last_t) = (Instant::now(), at_back, Instant::now());
    while t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(100));
        let now = calls();
        if now == last {
            break;
        }
        (last, last_t) = (now, Instant::now());
    }
    let span = last_t.duration_since(t0).as_secs_f64();
    let after = (span >= 0.5).then(|| (last - at_back) as f64 * 100.0 / span);
    (back, during, after)
}

pub fn workers(s: Shape) -> bool {
    let Some(redis) = Redis::start() else {
        print_row("many workers, one org (issue 14)", "skipped: no redis-server".into(), "-", false);
        return true;
    };
    let dir = std::env::temp_dir().join(format!("zcrm-bench-workers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let limit = s.concurrency as f64 * 100.0 / (s.latency_ms as f64 / 1000.0);
    let total = s.workers * s.rows;
    let shape = format!(
        "{} `zcrm link` processes x {} rows, one org: limit {}, latency {} ms, tokens of {} s",
        s.workers, s.rows, s.concurrency, s.latency_ms, s.token_lifetime
    );
    let with = run(&s, Some(&redis), false, &dir);
    let without = run(&s, None, false, &dir);
    let n = |r: &Run, k: &str| r.stats[k].as_u64().unwrap_or(0);
    let grants = |r: &Run| r.stats["token_grants"].get(0).map_or(json!(null), |g| g["grants"].clone());
    let rate = |r: &Run| total as f64 / r.elapsed.as_secs_f64();
    let ratio = rate(&with) / limit;
    // One grant per expiry: the run spans `elapsed / (lifetime - margin)` refresh intervals.
    let interval = s.token_lifetime as f64 * 0.8;
    let expiries = (with.elapsed.as_secs_f64() / interval).floor() as u64 + 1;
    let ok_with = with.exits.iter().all(|e| *e == Some(0)) && with.exact;
    let ok_without = without.exits.iter().all(|e| *e == Some(0)) && without.exact;
    print_row(
        &format!("{shape}: **with `--budget`**"),
        format!(
            "{:.0} rows/s combined = **{ratio:.3}** x limit {limit:.0} ({:.2} s wall, process start and CSV sort included; {:.3} x limit from the first call to the last, {:.3} in the middle of the run); **{}** 429s from our concurrency; max {} in flight; **{}** token grants for {expiries} token lifetime(s) of the run; final state {}",
            rate(&with),
            with.elapsed.as_secs_f64(),
            total as f64 / with.working / limit,
            with.steady / limit,
            n(&with, "rejected_concurrency"),
            n(&with, "max_in_flight"),
            grants(&with),
            if with.exact { "= input" } else { "DIFFERS" }
        ),
        ">= 0.9 x limit, 0 429s from our concurrency, one token grant per expiry, state exact",
        ratio >= 0.9 && n(&with, "rejected_concurrency") == 0 && grants(&with).as_u64() == Some(expiries) && ok_with,
    );
    print_row(
        &format!("{shape}: without `--budget` (same run)"),
        format!(
            "{:.0} rows/s combined = {:.3} x limit ({:.3} in the middle of the run); **{}** 429s from our concurrency; **{}** token grants ({} token requests refused); {} of {} workers exited 0; final state {}",
            rate(&without),
            rate(&without) / limit,
            without.steady / limit,
            n(&without, "rejected_concurrency"),
            grants(&without),
            n(&without, "tokens_throttled"),
            without.exits.iter().filter(|e| **e == Some(0)).count(),
            s.workers,
            if without.exact { "= input" } else { "DIFFERS" }
        ),
        "(baseline: the processes trip each other)",
        true,
    );
    let killed = run(&s, Some(&redis), true, &dir);
    if let Some((back, during, after)) = killed.recovery {
        let others_ok = killed.exits.iter().skip(1).all(|e| *e == Some(0));
        let after_text = match after {
            Some(r) => format!("then **{:.3}** x limit ({r:.0} rows/s)", r / limit),
            None => "then they were done".to_owned(),
        };
        print_row(
            &format!("{shape}, `--budget`, lease {} s: `kill -9` of one worker at a sixth of the run", s.lease_ttl),
            format!(
                "its slots back **{:.2} s** after the kill; the other {} ran at {:.3} x limit while its leases lasted, {after_text}; {} 429s from our concurrency; others {}",
                back.as_secs_f64(),
                s.workers - 1,
                during / limit,
                n(&killed, "rejected_concurrency"),
                if others_ok { "finished, exit 0" } else { "FAILED" }
            ),
            "slots back within the lease time; others at full speed",
            back.as_secs_f64() <= s.lease_ttl + 0.5 && after.is_none_or(|r| r / limit >= 0.9) && others_ok,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = ok_without; // the baseline may lose rows to 429s: that is what it shows
    ok_with && killed.exits.iter().skip(1).all(|e| *e == Some(0))
}

/// Per-call time of one client with and without a budget (emulator latency 0, sequential calls, interleaved
/// rounds): the Redis round trips a call costs (enter: the semaphore script and the credit script; finish:
/// release).
pub fn overhead(calls: usize) -> bool {
    let Some(redis) = Redis::start() else { return true };
    let emu = EmulatorProcess::start(&emulator_bin(), &["--journal".into(), "0".into()]);
    let build = |budget: bool| {
        let b = Client::builder()
            .refresh_token("1000.EMULATORCLIENTID", "emulator-client-secret", "1000.emulator.refresh.token")
            .base_url(&emu.base_url)
            .accounts_url(&emu.accounts_url);
        if budget {
            b.budget(BudgetConfig { prefix: Some(prefix("overhead")), ..BudgetConfig::new(redis.url.clone()) })
        } else {
            b
        }
        .build()
        .expect("client")
    };
    let (plain, shared) = (build(false), build(true));
    let request = UpdateRelated::builder("Contacts", Parent::id("111111000000085009").expect("id"), "Deals")
        .record(json!({"id": "111111000000094028"}))
        .build()
        .expect("request");
    let time = |c: &Client, out: &mut Vec<f64>| {
        let t = Instant::now();
        c.update_related(&request).expect("call");
        out.push(t.elapsed().as_secs_f64() * 1e3);
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    time(&plain, &mut a);
    time(&shared, &mut b);
    a.clear();
    b.clear();
    let round = (calls / 10).max(20);
    for _ in 0..10 {
        (0..round).for_each(|_| time(&plain, &mut a));
        (0..round).for_each(|_| time(&shared, &mut b));
    }
    let pct = |xs: &mut Vec<f64>, p: f64| {
        xs.sort_by(f64::total_cmp);
        xs[((xs.len() - 1) as f64 * p) as usize]
    };
    let (a50, a99, b50, b99) = (pct(&mut a, 0.5), pct(&mut a, 0.99), pct(&mut b, 0.5), pct(&mut b, 0.99));
    print_row(
        &format!("Redis overhead per call (one client, {} sequential calls each, emulator latency 0)", a.len()),
        format!(
            "p50 **{:.3} ms** (with budget {b50:.3} ms vs {a50:.3} ms without), p99 **{:.3} ms** ({b99:.3} vs {a99:.3} ms)",
            b50 - a50,
            b99 - a99
        ),
        "(reported)",
        true,
    );
    true
}
