//! `zcrm link` killed, interrupted and resumed: the real binary against an emulator with latency, so that a job
//! runs long enough to be stopped in the middle.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

const PARENT: &str = "Contacts.External_Contact_ID";
const RELATED: &str = "Deals.External_Deal_ID";

fn emulator(contacts: usize, deals: usize, latency_ms: u64) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    seed.add_records("Deals", "External_Deal_ID", "d", deals);
    Emulator::start(EmulatorConfig { seed, latency: Duration::from_millis(latency_ms), ..EmulatorConfig::default() })
        .unwrap()
}

/// `zcrm link` for `csv`, with the emulator's credentials only, plus `extra` arguments.
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
        .stdin(Stdio::null());
    cmd
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn run(mut cmd: Command) -> Output {
    cmd.output().unwrap()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-crash-test-{name}-{}", std::process::id()));
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

/// A CSV of `rows` pairs `c{i / per_contact}`, `d{i}`, sorted by contact.
fn pairs(dir: &Dir, rows: usize, per_contact: usize) -> PathBuf {
    let mut s = String::from("External_Contact_ID,External_Deal_ID\n");
    for i in 0..rows {
        s.push_str(&format!("c{},d{i}\n", i / per_contact));
    }
    let path = dir.path("pairs.csv");
    std::fs::write(&path, s).unwrap();
    path
}

/// The report's complete lines (each must be a whole record), and the length of a cut tail after them.
fn complete_lines(path: &Path) -> (Vec<Vec<String>>, usize) {
    let bytes = std::fs::read(path).unwrap();
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut r = csv::Reader::from_reader(&bytes[..end]);
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["row", "parent", "related", "status", "code", "message", "zoho_id", "attempts"]
    );
    let lines = r
        .records()
        .map(|x| {
            let rec = x.expect("every line before the last newline is a whole record");
            assert_eq!(rec.len(), 8, "{rec:?}");
            rec.iter().map(str::to_owned).collect()
        })
        .collect();
    (lines, bytes.len() - end)
}

/// Records sent in PUT bodies so far, per (contact path segment, deal).
fn sent_records(emu: &Emulator) -> HashMap<(String, String), usize> {
    let mut sent = HashMap::new();
    for e in emu.journal().into_iter().filter(|e| e.method == "PUT") {
        let contact = e.path.split('/').nth(4).unwrap().to_owned();
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        for r in body["data"].as_array().unwrap() {
            *sent.entry((contact.clone(), r["External_Deal_ID"].as_str().unwrap().to_owned())).or_insert(0) += 1;
        }
    }
    sent
}

/// Every pair of the CSV is linked, and nothing else.
fn assert_exactly_linked(emu: &Emulator, rows: usize, per_contact: usize) {
    assert_eq!(emu.relation_count(), rows, "one relation per pair, nothing extra");
    for c in 0..rows.div_ceil(per_contact) {
        let cid = emu.find_external("Contacts", "External_Contact_ID", &format!("c{c}")).unwrap();
        let linked: BTreeSet<String> = emu.related("Contacts", &cid, "Deals").into_iter().map(|(id, _)| id).collect();
        let expected: BTreeSet<String> = (c * per_contact..((c + 1) * per_contact).min(rows))
            .map(|i| emu.find_external("Deals", "External_Deal_ID", &format!("d{i}")).unwrap())
            .collect();
        assert_eq!(linked, expected, "contact c{c}");
    }
}

/// The report holds every row of the input once, all ok.
fn assert_complete_report(path: &Path, rows: usize) {
    let (lines, cut) = complete_lines(path);
    assert_eq!(cut, 0, "a finished report ends with a whole line");
    let mut numbers: Vec<usize> = lines.iter().map(|l| l[0].parse().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=rows).collect::<Vec<_>>(), "every row once");
    assert!(lines.iter().all(|l| l[3] == "ok"), "every row ok");
    for l in &lines {
        let i: usize = l[0].parse::<usize>().unwrap() - 1;
        assert_eq!(l[2], format!("d{i}"), "line {l:?} names its row's deal");
    }
}

/// A random number in `0..n` (std only: the random keys of a `RandomState`).
fn random(n: u64) -> u64 {
    RandomState::new().hash_one(Instant::now()) % n
}

/// Waits up to `limit` for `until`.
fn wait_for(limit: Duration, mut until: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if until() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < limit, "zcrm did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn puts(emu: &Emulator) -> usize {
    emu.journal().iter().filter(|e| e.method == "PUT").count()
}

/// Starts a job and kills it (SIGKILL) after a random number of its calls reached the emulator plus a random
/// delay of up to one call's latency. Returns how many calls it had made.
fn start_and_kill(emu: &Emulator, cmd: &mut Command, calls: usize, latency_ms: u64, stderr: &Path) -> usize {
    let before = puts(emu);
    let after_calls = 1 + random(calls as u64 * 3 / 4) as usize;
    let extra = Duration::from_millis(random(latency_ms));
    let mut child = cmd.stdout(Stdio::null()).stderr(std::fs::File::create(stderr).unwrap()).spawn().unwrap();
    let started = wait_for(Duration::from_secs(60), || puts(emu) >= before + after_calls);
    std::thread::sleep(extra);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(started, "the job made {after_calls} calls: {}", std::fs::read_to_string(stderr).unwrap());
    assert_eq!(status.code(), None, "killed by a signal (after {after_calls} calls + {extra:?})");
    puts(emu) - before
}

#[test]
fn kill_9_at_a_random_point_then_resume_links_every_pair_once() {
    // Up to 2 x 4 calls of 100 rows can be under way (half of them waiting for a slot): well inside the window.
    let (rows, per_contact, window, latency) = (6_000, 100, 2_000, 80);
    let emu = emulator(rows / per_contact, rows, latency);
    let dir = Dir::new("kill");
    let csv = pairs(&dir, rows, per_contact);
    let report = PathBuf::from(format!("{}.report.csv", csv.display()));
    let options = ["--concurrency", "4", "--batch-size", "100", "--window", "2000"];

    // First run, default report path, killed in the middle.
    let made = start_and_kill(&emu, &mut link(&emu, &csv, &options), rows / 100, latency, &dir.path("1.err"));
    let (lines, cut) = complete_lines(&report);
    let ok_before = lines.iter().filter(|l| l[3] == "ok").count();
    assert!(ok_before < rows, "killed before the end ({made} calls, {ok_before} ok)");
    // Every ok line is true.
    let sent_first = sent_records(&emu);
    for l in lines.iter().filter(|l| l[3] == "ok") {
        assert_eq!(sent_first.get(&(l[1].clone(), l[2].clone())), Some(&1), "{l:?} was sent");
    }
    // Calls that were on the wire when the process died finish in the server; let them.
    std::thread::sleep(Duration::from_millis(2 * latency));

    // Resume from that report, into the same file (the default path), to the end.
    let mut resumed = options.to_vec();
    resumed.extend(["--resume", report.to_str().unwrap()]);
    let out = run(link(&emu, &csv, &resumed));
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    if ok_before > 0 {
        assert!(text(&out.stdout).contains(&format!("{ok_before} rows skipped")), "{}", text(&out.stdout));
    }
    assert_eq!(text(&out.stderr).contains("ignoring its last"), cut > 0, "{}", text(&out.stderr));

    assert_exactly_linked(&emu, rows, per_contact);
    assert_complete_report(&report, rows);
    let sent = sent_records(&emu);
    assert_eq!(sent.len(), rows, "every pair sent");
    let twice: usize = sent.values().map(|n| n - 1).sum();
    eprintln!("killed after {made} calls with {ok_before} ok lines (cut tail {cut} bytes); {twice} rows sent twice");
    assert!(twice <= window, "{twice} rows sent twice; at most one window ({window}) may be");
    assert!(sent.values().all(|&n| n <= 2), "no row sent three times");
}

#[test]
fn a_resumed_run_killed_in_turn_resumes_again_from_the_same_file() {
    let (rows, per_contact, window, latency) = (4_000, 100, 1_000, 80);
    let emu = emulator(rows / per_contact, rows, latency);
    let dir = Dir::new("kill-twice");
    let csv = pairs(&dir, rows, per_contact);
    let report = PathBuf::from(format!("{}.report.csv", csv.display()));
    let options = ["--concurrency", "2", "--batch-size", "100", "--window", "1000"];
    let mut resumed = options.to_vec();
    resumed.extend(["--resume", report.to_str().unwrap()]);
    let twice = |emu: &Emulator| -> usize { sent_records(emu).values().map(|n| n - 1).sum() };
    let ok_lines = || complete_lines(&report).0.iter().filter(|l| l[3] == "ok").count();

    let calls = start_and_kill(&emu, &mut link(&emu, &csv, &options), rows / 100, latency, &dir.path("1.err"));
    let mut story = format!("first run: killed after {calls} calls, {} ok lines", ok_lines());
    std::thread::sleep(Duration::from_millis(2 * latency));
    let remaining_calls = (rows - ok_lines()) / 100;
    if remaining_calls >= 2 {
        let ok_first = ok_lines();
        let calls = start_and_kill(&emu, &mut link(&emu, &csv, &resumed), remaining_calls, latency, &dir.path("2.err"));
        let ok_second = ok_lines();
        story += &format!(
            "; resumed run: killed after {calls} calls, {ok_second} ok lines, {} rows sent twice",
            twice(&emu)
        );
        assert!(ok_second >= ok_first, "the resumed run kept the rows done before: {story}");
        std::thread::sleep(Duration::from_millis(2 * latency));
    }
    let out = run(link(&emu, &csv, &resumed));
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_exactly_linked(&emu, rows, per_contact);
    assert_complete_report(&report, rows);
    let twice = twice(&emu);
    story += &format!("; final run: {} rows sent twice", twice);
    assert!(twice <= 2 * window, "at most one window per kill may be sent twice: {story}\n{}", text(&out.stdout));
}

#[test]
fn the_second_ctrl_c_stops_at_once_with_the_report_on_disk() {
    let (rows, per_contact, latency) = (600, 100, 1_500);
    let emu = emulator(rows / per_contact, rows, latency);
    let dir = Dir::new("sigint");
    let csv = pairs(&dir, rows, per_contact);
    let report = dir.path("report.csv");
    let options = ["--concurrency", "2", "--batch-size", "50", "--report", report.to_str().unwrap()];
    let stderr = dir.path("err");
    let mut child = link(&emu, &csv, &options)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    // Once the first calls have come back, two Ctrl-C while the next calls are on the wire (1.5 s each).
    let lines = || if report.exists() { complete_lines(&report).0.len() } else { 0 };
    assert!(wait_for(Duration::from_secs(60), || lines() >= 50), "{}", std::fs::read_to_string(&stderr).unwrap());
    let sigint = |pid: u32| {
        let ok = Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap().success();
        assert!(ok, "kill -INT");
    };
    sigint(child.id());
    std::thread::sleep(Duration::from_millis(100));
    let second = Instant::now();
    sigint(child.id());
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let waited = second.elapsed();
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: finishing the calls in flight") && err.contains("stopped;"), "{err}");
    assert!(waited < Duration::from_millis(latency), "the second Ctrl-C did not wait for the calls ({waited:?})");

    // The report is on disk at its name, whole lines only: every ok line is a real link, and the rows the
    // first Ctrl-C kept from being sent are NOT_ATTEMPTED (outcomes are written as they come).
    let (lines, cut) = complete_lines(&report);
    assert_eq!(cut, 0);
    assert!(lines.len() >= 50 && lines.len() < rows, "{} lines", lines.len());
    let sent = sent_records(&emu);
    for l in &lines {
        match l[3].as_str() {
            "ok" => assert!(sent.contains_key(&(l[1].clone(), l[2].clone())), "{l:?} was sent"),
            _ => assert_eq!(l[4], "NOT_ATTEMPTED", "{l:?}"),
        }
    }
    std::thread::sleep(Duration::from_millis(latency + 500));

    // And it resumes to an exact end.
    let mut resumed = options.to_vec();
    resumed.extend(["--resume", report.to_str().unwrap()]);
    let out = run(link(&emu, &csv, &resumed));
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_exactly_linked(&emu, rows, per_contact);
    assert_complete_report(&report, rows);
}

#[test]
fn resume_ignores_a_cut_last_line_and_sends_that_row_again() {
    let emu = emulator(1, 20, 0);
    let dir = Dir::new("cut");
    let csv = pairs(&dir, 20, 100);
    let report = PathBuf::from(format!("{}.report.csv", csv.display()));
    let out = run(link(&emu, &csv, &[]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A crash in the middle of the last line: cut it after its row number and parent.
    let bytes = std::fs::read(&report).unwrap();
    let last_start = bytes[..bytes.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let last = text(&bytes[last_start..]);
    let cut_at = last_start + last.find(",d").unwrap() + 2;
    std::fs::write(&report, &bytes[..cut_at]).unwrap();
    let cut_row: usize = last.split(',').next().unwrap().parse().unwrap();

    emu.clear_journal();
    let out = run(link(&emu, &csv, &["--resume", report.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stderr).contains("ignoring its last"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("19 rows skipped"), "{}", text(&out.stdout));
    let sent: Vec<(String, String)> = sent_records(&emu).into_keys().collect();
    assert_eq!(sent, [("c0".to_owned(), format!("d{}", cut_row - 1))], "only the cut row is sent again");
    assert_complete_report(&report, 20);
}

#[test]
fn resume_against_an_edited_csv_names_the_row_and_sends_nothing() {
    let emu = emulator(2, 10, 0);
    let dir = Dir::new("edited");
    let csv = pairs(&dir, 10, 5);
    let report = dir.path("r.csv");
    let out = run(link(&emu, &csv, &["--report", report.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let before = std::fs::read(&report).unwrap();
    // Sorted differently: row 2 now holds another pair.
    let edited = std::fs::read_to_string(&csv).unwrap().replacen("c0,d1\nc0,d2", "c0,d2\nc0,d1", 1);
    std::fs::write(&csv, edited).unwrap();
    emu.clear_journal();
    let out = run(link(&emu, &csv, &["--report", report.to_str().unwrap(), "--resume", report.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("row 2 of") && err.contains("\"d1\"") && err.contains("\"d2\""), "{err}");
    assert!(emu.journal().is_empty(), "nothing sent, not even a token request");
    assert_eq!(std::fs::read(&report).unwrap(), before, "the report is untouched");
}
