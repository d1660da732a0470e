//! The emulator as a separate process (so its CPU is not the client's), and its control routes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use zcrm_extid::Method;
use zcrm_extid::transport::{HttpRequest, Transport, TransportConfig, UreqTransport};

/// A running `zcrm-emulator` process; stopped when dropped (its stdin closes).
pub struct EmulatorProcess {
    child: Child,
    /// Its base URL.
    pub base_url: String,
    /// Its accounts URL.
    pub accounts_url: String,
    http: UreqTransport,
}

/// `zcrm-emulator` next to this executable (both are built into the same target directory).
pub fn sibling(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    me.parent().expect("exe dir").join(name)
}

impl EmulatorProcess {
    /// Starts `bin` with `args`.
    pub fn start(bin: &Path, args: &[String]) -> EmulatorProcess {
        let mut child =
            Command::new(bin).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| {
                panic!("cannot start {}: {e} (build it: cargo build --release -p zcrm-emulator)", bin.display())
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("startup line");
        let v: Value = serde_json::from_str(&line).expect("startup JSON");
        EmulatorProcess {
            child,
            base_url: v["base_url"].as_str().expect("base_url").to_owned(),
            accounts_url: v["accounts_url"].as_str().expect("accounts_url").to_owned(),
            http: UreqTransport::new(&TransportConfig { max_body_bytes: 1 << 30, ..TransportConfig::default() }),
        }
    }

    /// Calls a control route.
    pub fn control(&self, method: Method, route: &str, body: Option<&Value>) -> Value {
        let url = format!("{}/__emulator/{route}", self.base_url);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = self
            .http
            .send(HttpRequest { method, url: &url, headers: &[], body: body.as_bytes() })
            .expect("control call");
        serde_json::from_slice(&r.body).expect("control JSON")
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
