//! The `zcrm-emulator` binary: the startup line, the seed page's call over a real HTTP client, shutdown on
//! stdin EOF, and `--seed`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{SAMPLE_RESPONSE, TOKEN};
use serde_json::{Value, json};
use zcrm_extid::Method;
use zcrm_extid::transport::{HttpRequest, HttpResponse, Transport, TransportConfig, UreqTransport};

const BIN: &str = env!("CARGO_BIN_EXE_zcrm-emulator");
/// How long a process may take to start or stop before the test fails (instead of hanging).
const PATIENCE: Duration = Duration::from_secs(20);

struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    line: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only if a test failed half-way: the process is ours, stop it by its handle.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the emulator binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the startup line");
    Running { child, stdout, line }
}

impl Running {
    fn startup(&self) -> Value {
        serde_json::from_str(self.line.trim_end()).unwrap_or_else(|e| panic!("startup line {:?}: {e}", self.line))
    }

    fn base_url(&self) -> String {
        self.startup()["base_url"].as_str().unwrap().to_owned()
    }

    /// Closes stdin and waits (bounded) for the exit; returns the status and the rest of stdout.
    fn stop(mut self) -> (ExitStatus, String) {
        drop(self.child.stdin.take());
        let status = wait_bounded(&mut self.child);
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (status, rest)
    }
}

/// Waits for `child` on a helper thread, failing the test if it takes longer than [`PATIENCE`].
fn wait_bounded(child: &mut Child) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    let id = child.id();
    thread::scope(|s| {
        s.spawn(|| {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(PATIENCE) {
            Ok(status) => status.expect("wait"),
            Err(_) => {
                // The waiting thread holds the child: stop our own child by its pid so that thread can end.
                let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
                panic!("the emulator (pid {id}) did not exit within {PATIENCE:?}");
            }
        }
    })
}

fn put(base: &str, path: &str, token: &str, x_external: &str, body: &str) -> HttpResponse {
    let transport = UreqTransport::new(&TransportConfig::default());
    let url = format!("{base}{path}");
    let headers = [("Authorization", format!("Zoho-oauthtoken {token}")), ("X-EXTERNAL", x_external.to_owned())];
    transport
        .send(HttpRequest { method: Method::Put, url: &url, headers: &headers, body: body.as_bytes() })
        .expect("the emulator answers")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("zcrm-emulator-test-{}-{name}", std::process::id()));
    std::fs::File::create(&path).and_then(|mut f| f.write_all(contents.as_bytes())).expect("write temp file");
    path
}

#[test]
fn prints_one_json_line_serves_the_seed_page_call_and_stops_on_stdin_eof() {
    let running = spawn(&["--port", "0", "--latency-ms", "0"]);
    let startup = running.startup();
    let mut keys: Vec<&str> = startup.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["accounts_url", "base_url"]);
    let base = running.base_url();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"), "{base}");
    assert_eq!(startup["accounts_url"], format!("{base}/accounts"));
    let r = put(
        &base,
        "/crm/v5/Contacts/extcontact3/Deals",
        TOKEN,
        "Contacts.External_Contact_ID,Deals.External_Deal_ID",
        r#"{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"111111000000026002"}]}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(String::from_utf8_lossy(&r.body), SAMPLE_RESPONSE);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    let (status, rest) = running.stop();
    assert!(status.success(), "{status:?}");
    assert_eq!(rest, "", "exactly one line on stdout");
}

#[test]
fn stdin_eof_stops_it_even_when_nothing_was_written() {
    let running = spawn(&["--port", "0"]);
    let (status, _) = running.stop();
    assert!(status.success(), "{status:?}");
}

#[test]
fn stdin_data_then_eof_stops_it() {
    let mut running = spawn(&["--port", "0"]);
    running.child.stdin.as_mut().unwrap().write_all(b"any input is ignored\n").unwrap();
    let base = running.base_url();
    let r = put(
        &base,
        "/crm/v5/Contacts/extcontact3/Deals",
        TOKEN,
        "Contacts.External_Contact_ID",
        r#"{"data":[{"id":"111111000000094040"}]}"#,
    );
    assert_eq!(r.status, 200);
    let (status, _) = running.stop();
    assert!(status.success());
}

#[test]
fn custom_seed_file() {
    let seed = json!({
        "modules": {
            "Contacts": {"external_fields": ["Ext_C"], "records": [{"id": "5001", "Ext_C": "c-1"}]},
            "Deals": {"external_fields": ["Ext_D"], "records": [{"id": "6001", "Ext_D": "d-1"}]}
        },
        "related_lists": [{"module": "Contacts", "api_name": "Deals", "relation_fields": ["Role"]}],
        "access_tokens": [{"token": "1000.custom"}]
    });
    let path = temp_file("seed.json", &seed.to_string());
    let running = spawn(&["--port", "0", "--latency-ms", "0", "--seed", path.to_str().unwrap()]);
    let base = running.base_url();
    let r = put(
        &base,
        "/crm/v5/Contacts/c-1/Deals",
        "1000.custom",
        "Contacts.Ext_C,Deals.Ext_D",
        r#"{"data":[{"Ext_D":"d-1","Role":"r"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["data"][0]["details"], json!({"Ext_D": "d-1", "id": "6001"}));
    // The default seed is not there: neither its token nor its records.
    let r = put(&base, "/crm/v5/Contacts/extcontact3/Deals", TOKEN, "Contacts.External_Contact_ID", "{}");
    assert_eq!(r.status, 401);
    let (status, _) = running.stop();
    assert!(status.success());
    std::fs::remove_file(path).unwrap();
}

fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_bounded(&mut child);
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status, out, err)
}

#[test]
fn bad_seed_files_exit_with_status_2_and_a_message() {
    let not_json = temp_file("bad.json", "{\"modules\": ");
    let unknown_field = temp_file("unknown.json", r#"{"modules": {}, "colour": "blue"}"#);
    let inconsistent =
        temp_file("inconsistent.json", r#"{"related_lists": [{"module": "Contacts", "api_name": "Deals"}]}"#);
    let missing = std::env::temp_dir().join(format!("zcrm-emulator-test-{}-missing.json", std::process::id()));
    for (path, says) in [
        (&not_json, "invalid seed"),
        (&unknown_field, "invalid seed"),
        (&inconsistent, "unknown module"),
        (&missing, "cannot read"),
    ] {
        let (status, out, err) = run_to_exit(&["--port", "0", "--seed", path.to_str().unwrap()]);
        assert_eq!(status.code(), Some(2), "{path:?}: {err}");
        assert!(err.starts_with("zcrm-emulator: ") && err.contains(says), "{path:?}: {err:?}");
        assert_eq!(out, "", "nothing on stdout when it does not start");
    }
    for path in [not_json, unknown_field, inconsistent] {
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn bad_arguments_exit_with_status_2() {
    let (status, _, err) = run_to_exit(&["--edition", "platinum"]);
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("unknown edition"), "{err}");
}

#[test]
fn generated_records_are_addressable() {
    let emu = spawn(&["--generate", "Deals.External_Deal_ID=gen:3", "--journal", "0"]);
    let base = emu.base_url();
    let r = put(
        &base,
        "/crm/v5/Contacts/extcontact3/Deals",
        TOKEN,
        "Contacts.External_Contact_ID,Deals.External_Deal_ID",
        r#"{"data":[{"External_Deal_ID":"gen2"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let bad = run_to_exit(&["--generate", "Deals=3"]);
    assert_eq!(bad.0.code(), Some(2), "{}", bad.2);
    emu.stop();
}
