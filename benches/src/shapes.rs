//! The shapes users have (issue 13): shuffled input through the library and the CLI, a 1,000,000-row shuffled
//! file's memory, `kill -9` then `--resume`, a wrong client secret, and a throttling token endpoint.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use zcrm_extid::auth::TokenPolicy;
use zcrm_extid::bulk::{BulkOptions, BulkRow, Cancel};
use zcrm_extid::{Client, InvalidInput, Method, Parent, RetryPolicy};

use crate::emulator::{EmulatorProcess, sibling};
use crate::{client, measure, print_row, spec, start, state_matches};

/// The pairs (c{i/100}, d{i}) in a shuffled order (a fixed xorshift permutation).
pub fn shuffled_pairs(rows: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..rows).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

fn row(i: usize) -> Result<BulkRow, InvalidInput> {
    Ok(BulkRow {
        parent: Parent::external("External_Contact_ID", format!("c{}", i / 100))?,
        record: json!({"External_Deal_ID": format!("d{i}")}),
    })
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("zcrm-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CSV of the pairs in `order`.
fn write_csv(path: &Path, order: &[usize]) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("csv"));
    writeln!(w, "External_Contact_ID,External_Deal_ID").expect("write");
    for &i in order {
        writeln!(w, "c{},d{i}", i / 100).expect("write");
    }
}

/// `zcrm link` over `csv` against `emu` (with `secret`), plus `extra` arguments.
fn zcrm_link(emu: &EmulatorProcess, csv: &Path, report: &Path, secret: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(sibling("zcrm"));
    cmd.args(["link", "--csv", csv.to_str().expect("utf8 path"), "--parent", "Contacts.External_Contact_ID"])
        .args(["--related", "Deals.External_Deal_ID", "--report"])
        .arg(report)
        .args(extra)
        .env("ZOHO_CLIENT_ID", "1000.EMULATORCLIENTID")
        .env("ZOHO_CLIENT_SECRET", secret)
        .env("ZOHO_REFRESH_TOKEN", "1000.emulator.refresh.token")
        .env("ZOHO_BASE_URL", &emu.base_url)
        .env("ZOHO_ACCOUNTS_URL", &emu.accounts_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Waits for `child`, sampling its peak RSS; (status, peak MiB, wall time).
fn watch(mut child: Child, started: Instant) -> (ExitStatus, f64, Duration) {
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = measure::peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, peak as f64 / 1024.0, started.elapsed())
}

/// Shuffled input at the limit: the library with the default window, the library with a window holding the
/// whole input, and `zcrm link` with its defaults (the partition pass), each as a share of C x 100 / L.
pub fn shuffled(rows: usize, latency_ms: u64, concurrency: usize) -> bool {
    let limit = concurrency as f64 * 100.0 / (latency_ms as f64 / 1000.0);
    let order = shuffled_pairs(rows);
    let mut correct = true;
    for (label, window) in [("library, default window 10,000", None), ("library, window = all rows", Some(rows))] {
        let emu = start(rows.div_ceil(100), rows, latency_ms, concurrency);
        let c = client(&emu, 10);
        let options = BulkOptions {
            concurrency,
            window: window.unwrap_or(BulkOptions::default().window),
            ..BulkOptions::default()
        };
        let input: Vec<_> = order.iter().map(|&i| row(i)).collect();
        let started = Instant::now();
        let summary = c.link_many(&spec(), &options, input, &mut |_| {}, &mut |_| {}, &Cancel::new()).expect("options");
        let rate = rows as f64 / started.elapsed().as_secs_f64();
        let exact = state_matches(&emu.control(Method::Get, "state", None), rows);
        correct &= exact && summary.succeeded == rows as u64;
        let target = if window.is_some() { 0.9 } else { 0.0 };
        print_row(
            &format!(
                "{rows} rows shuffled ({} parents), latency {latency_ms} ms, limit {concurrency}: {label}",
                rows / 100
            ),
            format!(
                "{rate:.0} rows/s = **{:.3}** x limit; {} calls ({:.0} rows/call){}",
                rate / limit,
                summary.calls,
                rows as f64 / summary.calls.max(1) as f64,
                if exact { "; final state = input" } else { "; FINAL STATE DIFFERS" }
            ),
            if window.is_some() { ">= 0.9 x limit" } else { "(a stream: calls as full as the window allows)" },
            rate / limit >= target && exact,
        );
    }
    let emu = start(rows.div_ceil(100), rows, latency_ms, concurrency);
    let dir = Scratch::new("shuffled");
    let (csv, report) = (dir.0.join("pairs.csv"), dir.0.join("report.csv"));
    write_csv(&csv, &order);
    let concurrency_arg = concurrency.to_string();
    let started = Instant::now();
    let child = zcrm_link(&emu, &csv, &report, "emulator-client-secret", &["--concurrency", &concurrency_arg])
        .spawn()
        .expect("zcrm (build it: cargo build --release -p zcrm-cli)");
    let (status, mib, elapsed) = watch(child, started);
    let rate = rows as f64 / elapsed.as_secs_f64();
    let state = emu.control(Method::Get, "state", None);
    let exact = state_matches(&state, rows);
    correct &= exact && status.success();
    print_row(
        &format!("the same file through `zcrm link` with default options (partition pass), limit {concurrency}"),
        format!(
            "{rate:.0} rows/s = **{:.3}** x limit (whole process: reading, sorting, report); {} calls; {mib:.1} MiB{}",
            rate / limit,
            state["stats"]["api_calls"],
            if exact { "; final state = input" } else { "; FINAL STATE DIFFERS" }
        ),
        ">= 0.9 x limit",
        rate / limit >= 0.9 && exact,
    );
    correct
}

/// Peak RSS of `zcrm link` on a shuffled file of `rows` rows.
pub fn rss_shuffled(rows: usize) -> bool {
    let dir = Scratch::new("rss-shuffled");
    let (csv, report) = (dir.0.join("pairs.csv"), dir.0.join("report.csv"));
    write_csv(&csv, &shuffled_pairs(rows));
    let emu = start(rows.div_ceil(100), rows, 0, 20);
    let started = Instant::now();
    let child = zcrm_link(&emu, &csv, &report, "emulator-client-secret", &[]).spawn().expect("zcrm");
    let (status, mib, elapsed) = watch(child, started);
    // (The emulator's state is not read back here: dumping a million relations is slower than the job.)
    print_row(
        &format!("peak RSS of `zcrm link`, {rows}-row CSV shuffled, report written"),
        format!(
            "**{mib:.1} MiB** ({:.1} s, {:.0} rows/s, exit {})",
            elapsed.as_secs_f64(),
            rows as f64 / elapsed.as_secs_f64(),
            status.code().unwrap_or(-1)
        ),
        "<= 64 MiB",
        status.success() && mib <= 64.0,
    );
    status.success()
}

/// `kill -9` of `zcrm link` at a random point, then `--resume`: the final state, and the rows sent twice.
pub fn kill9(rows: usize, latency_ms: u64) -> bool {
    let dir = Scratch::new("kill9");
    let (csv, report) = (dir.0.join("pairs.csv"), dir.0.join("report.csv"));
    write_csv(&csv, &shuffled_pairs(rows));
    let emu = start(rows.div_ceil(100), rows, latency_ms, 10);
    let expected = (rows as f64 / 20_000.0) / (latency_ms as f64 / 50.0).max(0.1);
    // Somewhere in the first 20-70% of the job's expected time (xorshift of the clock: no rand dependency).
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.subsec_nanos());
    let at = Duration::from_secs_f64(expected.max(0.5) * (0.2 + 0.5 * f64::from(nanos % 1000) / 1000.0));
    let mut child = zcrm_link(&emu, &csv, &report, "emulator-client-secret", &[]).spawn().expect("zcrm");
    std::thread::sleep(at);
    let _ = child.kill();
    let _ = child.wait();
    let before = emu.control(Method::Get, "state", None)["stats"]["records_received"].as_u64().unwrap_or(0);
    // Calls that were on the wire when it died finish in the emulator; let them land before resuming.
    std::thread::sleep(Duration::from_millis(latency_ms * 3 + 100));
    let started = Instant::now();
    let resumed =
        zcrm_link(&emu, &csv, &report, "emulator-client-secret", &["--resume", report.to_str().expect("utf8")])
            .status()
            .expect("zcrm");
    let state = emu.control(Method::Get, "state", None);
    let received = state["stats"]["records_received"].as_u64().unwrap_or(0);
    let twice = received.saturating_sub(rows as u64);
    let exact = state_matches(&state, rows);
    print_row(
        &format!(
            "`kill -9` of `zcrm link` after {:.2} s, then `--resume` ({rows} rows shuffled, latency {latency_ms} ms)",
            at.as_secs_f64()
        ),
        format!(
            "final state {}; rows sent twice **{twice}** ({before} rows received before the kill); resume took {:.2} s, exit {}",
            if exact { "= input" } else { "DIFFERS" },
            started.elapsed().as_secs_f64(),
            resumed.code().unwrap_or(-1)
        ),
        "state exact, rows sent twice <= one window (10,000)",
        exact && twice <= 10_000 && resumed.success(),
    );
    exact && resumed.success()
}

/// A wrong client secret: `zcrm link` on `rows` rows must stop at once with exit 3 and <= 2 token requests.
pub fn wrong_secret(rows: usize) -> bool {
    let dir = Scratch::new("wrong-secret");
    let (csv, report) = (dir.0.join("pairs.csv"), dir.0.join("report.csv"));
    write_csv(&csv, &(0..rows).collect::<Vec<_>>());
    let emu = start(rows.div_ceil(100), rows, 50, 10);
    let started = Instant::now();
    let status = zcrm_link(&emu, &csv, &report, "not-the-secret", &[]).status().expect("zcrm");
    let elapsed = started.elapsed();
    let stats = &emu.control(Method::Get, "state", None)["stats"];
    let requests = stats["tokens_issued"].as_u64().unwrap_or(0) + stats["token_errors"].as_u64().unwrap_or(0);
    print_row(
        &format!("wrong client secret, `zcrm link` on {rows} rows"),
        format!(
            "exit **{}** after **{:.3} s**; **{requests}** token requests, {} API calls",
            status.code().unwrap_or(-1),
            elapsed.as_secs_f64(),
            stats["api_calls"]
        ),
        "exit 3 in < 1 s, <= 2 token requests",
        status.code() == Some(3) && elapsed < Duration::from_secs(1) && requests <= 2,
    );
    status.code() == Some(3)
}

/// A job whose tokens live 1 s against a token endpoint that allows 10 per window (Zoho: 10 per refresh token
/// per 10 minutes), time scaled down `scale` times (the window is 600 / scale s; the client's own budget and
/// throttle waits are scaled the same way): the job must finish, waiting for tokens, with at most 10 token
/// requests in any window.
pub fn throttle(scale: u64, rows: usize) -> bool {
    let window = Duration::from_secs(600 / scale);
    let args: Vec<String> = [
        "--latency-ms",
        "50",
        "--concurrency",
        "10",
        "--journal",
        "0",
        "--token-lifetime",
        "1",
        "--token-throttle",
        "10",
        "--token-throttle-window",
        &window.as_secs().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["--generate".into(), format!("Contacts.External_Contact_ID=c:{}", rows.div_ceil(100))])
    .chain(["--generate".into(), format!("Deals.External_Deal_ID=d:{rows}")])
    .collect();
    let emu = EmulatorProcess::start(&sibling("zcrm-emulator"), &args);
    let c = Client::builder()
        .refresh_token("1000.EMULATORCLIENTID", "emulator-client-secret", "1000.emulator.refresh.token")
        .base_url(&emu.base_url)
        .accounts_url(&emu.accounts_url)
        .retry_policy(RetryPolicy { max_retries: 10, ..RetryPolicy::default() })
        .token_policy(TokenPolicy {
            throttle_wait: Duration::from_secs(60 / scale).max(Duration::from_millis(200)),
            throttle_wait_max: window,
            request_window: window,
            ..TokenPolicy::default()
        })
        .build()
        .expect("client");
    // Slow enough to outlast several token lifetimes: concurrency 1, batches of 20.
    let options = BulkOptions { concurrency: 1, batch_size: 20, ..BulkOptions::default() };
    let input: Vec<_> = (0..rows).map(row).collect();
    let samples = std::sync::Mutex::new(Vec::<(Instant, u64)>::new());
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let summary = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let st = &emu.control(Method::Get, "state", None)["stats"];
                let n = st["tokens_issued"].as_u64().unwrap_or(0) + st["token_errors"].as_u64().unwrap_or(0);
                samples.lock().expect("samples").push((Instant::now(), n));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let s = c.link_many(&spec(), &options, input, &mut |_| {}, &mut |_| {}, &Cancel::new()).expect("options");
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        s
    });
    let samples = samples.into_inner().expect("samples");
    let most_in_a_window = samples
        .iter()
        .map(|(t, n)| {
            let earliest = samples.iter().find(|(u, _)| *u + window >= *t).map_or(0, |(_, m)| *m);
            n - earliest
        })
        .max()
        .unwrap_or(0);
    let stats = &emu.control(Method::Get, "state", None)["stats"];
    let exact = state_matches(&emu.control(Method::Get, "state", None), rows);
    print_row(
        &format!(
            "tokens of 1 s against Zoho's token limit (10 per window), time scaled 1/{scale}: window {} s, {rows} rows",
            window.as_secs()
        ),
        format!(
            "job {} in {:.1} s after {} throttle waits; {} tokens, {} refusals; at most **{most_in_a_window}** token requests in any window",
            if exact && summary.succeeded == rows as u64 { "complete" } else { "INCOMPLETE" },
            started.elapsed().as_secs_f64(),
            summary.throttle_waits,
            stats["tokens_issued"],
            stats["token_errors"]
        ),
        "completes; <= 10 token requests per window",
        exact && most_in_a_window <= 10,
    );
    exact
}
