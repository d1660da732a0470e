//! Helpers of the `unlink` and `sync` end-to-end tests: the binary with the emulator's credentials, temporary
//! folders, reports.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

/// An emulator with contacts `c{n}` and deals `d{n}`.
pub fn emulator(contacts: usize, deals: usize) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    seed.add_records("Deals", "External_Deal_ID", "d", deals);
    Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap()
}

/// `zcrm` with only the emulator's credentials in its environment.
pub fn zcrm(emu: Option<&Emulator>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zcrm"));
    cmd.env_clear().args(args);
    if let Some(emu) = emu {
        let (id, secret, refresh) = Emulator::default_credentials();
        cmd.env("ZOHO_CLIENT_ID", id)
            .env("ZOHO_CLIENT_SECRET", secret)
            .env("ZOHO_REFRESH_TOKEN", refresh)
            .env("ZOHO_BASE_URL", emu.base_url())
            .env("ZOHO_ACCOUNTS_URL", emu.accounts_url());
    }
    cmd.output().unwrap()
}

/// Output as text.
pub fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// A temporary folder, removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-cli-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    pub fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A report's lines sorted by row number.
pub fn report_by_row(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["row", "parent", "related", "status", "code", "message", "zoho_id", "attempts"]
    );
    let mut lines: Vec<Vec<String>> = r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect();
    lines.sort_by_key(|l| l[0].parse::<u64>().unwrap());
    lines
}

/// The deal external values linked to contact `contact` (sorted).
pub fn deals_of(emu: &Emulator, contact: &str) -> Vec<String> {
    let cid = emu.find_external("Contacts", "External_Contact_ID", contact).unwrap();
    let state = emu.state();
    let records = state["modules"]["Deals"]["records"].as_array().unwrap().clone();
    let mut out: Vec<String> = emu
        .related("Contacts", &cid, "Deals")
        .into_iter()
        .map(|(id, _)| {
            let r = records.iter().find(|r| r["id"] == id.as_str()).unwrap();
            r["External_Deal_ID"].as_str().unwrap().to_owned()
        })
        .collect();
    out.sort();
    out
}
