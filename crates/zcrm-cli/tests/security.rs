//! `zcrm` security over real sockets: proxy variables never carry loopback traffic and https goes through a
//! proxy as CONNECT (NO_PROXY honoured); no secret in the output for URLs with credentials or a query, or for a
//! token endpoint that echoes what it was sent; no forged line on stderr.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use zcrm_emulator::{Action, Emulator, EmulatorConfig, Fault, Target};

/// A tiny proxy on 127.0.0.1 recording the request head of every connection (CONNECT gets 200, then the
/// connection is closed after the first tunnelled bytes).
fn tiny_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 && matches!(s.read(&mut b), Ok(1)) {
                head.push(b[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            if head.starts_with("CONNECT ") {
                let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let _ = s.read(&mut [0u8; 16]);
            }
            log.lock().unwrap().push(head);
        }
    });
    (url, seen)
}

fn data_file(name: &str, content: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("zcrm-cli-security-{name}-{}.json", std::process::id()));
    std::fs::write(&p, content).unwrap();
    p
}

/// `zcrm related update` of the seed page's Case A with `env` and `args`, nothing else in its environment.
fn update(env: &[(&str, &str)], args: &[&str], data: &PathBuf) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zcrm"));
    cmd.env_clear()
        .args(["related", "update", "Contacts", "extcontact3", "Deals"])
        .args(["-x", "Contacts.External_Contact_ID,Deals.External_Deal_ID", "--data"])
        .arg(data)
        .args(["--max-retries", "0"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn emulator_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    let (id, secret, refresh) = Emulator::default_credentials();
    vec![
        ("ZOHO_CLIENT_ID", id.to_owned()),
        ("ZOHO_CLIENT_SECRET", secret.to_owned()),
        ("ZOHO_REFRESH_TOKEN", refresh.to_owned()),
        ("ZOHO_BASE_URL", emu.base_url().to_owned()),
        ("ZOHO_ACCOUNTS_URL", emu.accounts_url()),
    ]
}

fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const SAMPLE: &str = r#"{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"111111000000026002"}]}"#;

#[test]
fn proxy_variables_never_carry_loopback_traffic_and_https_is_a_connect() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let (proxy, seen) = tiny_proxy();
    let data = data_file("proxy", SAMPLE);
    let mut env = emulator_env(&emu);
    for var in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "all_proxy", "https_proxy", "http_proxy"] {
        env.push((var, proxy.clone()));
    }
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = update(&env_ref, &[], &data);
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    thread::sleep(Duration::from_millis(100));
    assert!(seen.lock().unwrap().is_empty(), "loopback went through the proxy: {:?}", seen.lock().unwrap());

    // Off loopback (0.0.0.0 is not loopback, yet stays on this machine): a CONNECT, unless NO_PROXY exempts it.
    let token = [("ZOHO_ACCESS_TOKEN", "1000.cli.secret.token"), ("HTTPS_PROXY", proxy.as_str())];
    let o = update(&token, &["--base-url", "https://0.0.0.0:9"], &data);
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(heads[0].starts_with("CONNECT 0.0.0.0:9 HTTP/1.1\r\n"), "{heads:?}");
    assert!(!heads[0].contains("1000.cli.secret.token"), "{heads:?}");
    let exempt = [token[0], token[1], ("NO_PROXY", "example.com,0.0.0.0")];
    let o = update(&exempt, &["--base-url", "https://0.0.0.0:9"], &data);
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    assert_eq!(seen.lock().unwrap().len(), 1, "NO_PROXY was not honoured");
    // --proxy none wins over the variables.
    let o = update(&token, &["--base-url", "https://0.0.0.0:9", "--proxy", "none"], &data);
    assert_eq!(o.status.code(), Some(3), "{}", all_output(&o));
    assert_eq!(seen.lock().unwrap().len(), 1, "--proxy none was not honoured");
    std::fs::remove_file(data).unwrap();
}

#[test]
fn no_secret_in_the_output_for_urls_with_credentials_or_echoing_token_endpoints() {
    let data = data_file("secrets", SAMPLE);
    let token = [("ZOHO_ACCESS_TOKEN", "1000.cli.secret.token")];
    for (flag, url, secret) in [
        ("--base-url", "https://admin:hunter2@crm.example.com", "hunter2"),
        ("--base-url", "http://10.0.0.1/x?authtoken=q-secret-1", "q-secret-1"),
        ("--accounts-url", "https://accounts.example.com?client_secret=q-secret-2#frag", "q-secret-2"),
        ("--proxy", "socks5://user:proxy-secret@proxy:1080", "proxy-secret"),
    ] {
        for dry in [false, true] {
            let mut args = vec![flag, url];
            if dry {
                args.push("--dry-run");
            }
            let o = update(&token, &args, &data);
            let out = all_output(&o);
            assert!(!out.contains(secret) && !out.contains("1000.cli.secret.token"), "{flag} {url}: {out}");
            if !dry || flag == "--base-url" {
                assert_eq!(o.status.code(), Some(2), "{flag} {url}: {out}");
                assert!(out.contains("***"), "{out}");
            }
        }
    }

    // A token endpoint (or a proxy in front of it) that echoes the request back.
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let (_, secret, refresh) = Emulator::default_credentials();
    let echo = serde_json::json!({
        "error": "invalid_client",
        "error_description": format!("client_secret={secret}&refresh_token={refresh}"),
        "echo": {"client_secret": secret, "refresh_token": refresh},
    })
    .to_string();
    for (status, body) in [(200, echo), (502, format!("<pre>refresh_token={refresh} {secret}</pre>"))] {
        let mut f = Fault::status(status);
        f.target = Target::Token;
        f.action = Action::Status { status, body: Some(body), content_type: None, headers: vec![] };
        emu.push_fault(f);
        let env = emulator_env(&emu);
        let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = update(&env_ref, &[], &data);
        let out = all_output(&o);
        assert_eq!(o.status.code(), Some(3), "{out}");
        assert!(!out.contains(secret) && !out.contains(refresh), "{out}");
    }
    std::fs::remove_file(data).unwrap();
}

#[test]
fn a_field_name_cannot_forge_a_line() {
    let forged = r#"{"data":[{"External_Deal_ID":"extdeal3","X\nzcrm: all 1 records linked\u001b[2K\u2028":"1"}]}"#;
    let data = data_file("forged", forged);
    let o = update(&[("ZOHO_ACCESS_TOKEN", "t")], &["--base-url", "http://127.0.0.1:9"], &data);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("zcrm: invalid data[0]."), "the forged text stays inside the one real line: {stderr}");
    assert!(stderr.contains(r"X\nzcrm:") && !stderr.contains('\u{1b}') && !stderr.contains('\u{2028}'), "{stderr}");
    std::fs::remove_file(data).unwrap();
}
