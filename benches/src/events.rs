//! `zcrm-bench events`: what the client's events cost per call, as ratios measured in one run.
//!
//! * **In memory** (no network, a canned 200 answer from a [`Transport`]): the client's own time per call with
//!   nothing listening, the state of every process that sets no `log` logger and no listener, against a `log`
//!   logger taking every event (each record formatted with its key-values, then dropped) and against a
//!   per-client listener (each event turned into JSON, as the Node binding does).
//! * **Loopback** (the emulator process): a real call, nothing listening vs the logger taking every event.
//!
//! The logger is installed once; "nothing listening" sets `log`'s level to off, which is where `log` starts
//! in a process without a logger. Rounds are interleaved and medians taken (the machine is noisy).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde_json::json;
use zcrm_extid::transport::{HttpRequest, HttpResponse, Transport};
use zcrm_extid::{Client, Event, Parent, UpdateRelated};

use crate::emulator::EmulatorProcess;
use crate::measure::median;
use crate::print_row;

/// The seed's access token (the emulator accepts it).
const PAGE_TOKEN: &str = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf";

/// Formats each record as a text logger would, then drops it.
struct Formatting(AtomicU64);

impl log::Log for Formatting {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.target().starts_with("zcrm_extid")
    }
    fn log(&self, record: &log::Record) {
        // As every bridge of this project does: only the core's records (the HTTP library logs too).
        if !self.enabled(record.metadata()) {
            return;
        }
        struct Kv(String);
        impl<'kvs> log::kv::VisitSource<'kvs> for Kv {
            fn visit_pair(&mut self, k: log::kv::Key<'kvs>, v: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
                let _ = write!(self.0, " {k}={v}");
                Ok(())
            }
        }
        let mut line = Kv(format!("{} {} {}", record.level(), record.target(), record.args()));
        let _ = record.key_values().visit(&mut line);
        self.0.fetch_add(std::hint::black_box(line.0).len() as u64, Ordering::Relaxed);
    }
    fn flush(&self) {}
}

static LOGGER: Formatting = Formatting(AtomicU64::new(0));

/// A transport answering every request with one linked record.
#[derive(Debug)]
struct Canned(Vec<u8>);

impl Transport for Canned {
    fn send(&self, _: HttpRequest<'_>) -> zcrm_extid::Result<HttpResponse> {
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json;charset=UTF-8".into())],
            body: self.0.clone(),
        })
    }
}

fn request() -> UpdateRelated {
    UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "c0").expect("parent"), "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"External_Deal_ID": "d0"}))
        .build()
        .expect("request")
}

/// Median per-call time (us) of each of `variants`, over `rounds` interleaved rounds of `calls` calls.
fn interleaved(variants: &mut [&mut dyn FnMut()], rounds: usize, calls: usize) -> Vec<f64> {
    let mut times = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter_mut().enumerate() {
            let t = Instant::now();
            (0..calls).for_each(|_| v());
            times[i].push(t.elapsed().as_secs_f64() * 1e6 / calls as f64);
        }
    }
    times.iter_mut().map(|t| median(t)).collect()
}

pub fn events(calls: usize, emu: &EmulatorProcess) -> bool {
    let _ = log::set_logger(&LOGGER);
    let body = json!({"data": [{"code": "SUCCESS", "details": {"id": "1"}, "message": "relation added", "status": "success"}]});
    let canned = || Arc::new(Canned(body.to_string().into_bytes()));
    let quiet = Client::builder().access_token("t").base_url("http://127.0.0.1:9").transport(canned()).build();
    let json_sink = Arc::new(AtomicU64::new(0));
    let sink = json_sink.clone();
    let listening = Client::builder()
        .access_token("t")
        .base_url("http://127.0.0.1:9")
        .transport(canned())
        .on_event(move |e: &Event| {
            sink.fetch_add(e.to_json().to_string().len() as u64, Ordering::Relaxed);
        })
        .build();
    let (quiet, listening) = (quiet.expect("client"), listening.expect("client"));
    let r = request();
    let level = |l| move || log::set_max_level(l);
    let (off, debug) = (level(log::LevelFilter::Off), level(log::LevelFilter::Debug));
    let mut none = || {
        off();
        quiet.update_related(&r).expect("call");
    };
    let mut logged = || {
        debug();
        quiet.update_related(&r).expect("call");
    };
    let mut listened = || {
        off();
        listening.update_related(&r).expect("call");
    };
    let mem = interleaved(&mut [&mut none, &mut logged, &mut listened], 15, (calls * 4).max(2_000));
    off();
    let net = {
        let client = Client::builder().access_token(PAGE_TOKEN).base_url(&emu.base_url).build().expect("client");
        let r = request();
        let _ = client.update_related(&r);
        let mut none = || {
            off();
            client.update_related(&r).expect("call");
        };
        let mut logged = || {
            debug();
            client.update_related(&r).expect("call");
        };
        interleaved(&mut [&mut none, &mut logged], 10, (calls / 10).max(50))
    };
    off();
    assert!(LOGGER.0.load(Ordering::Relaxed) > 0 && json_sink.load(Ordering::Relaxed) > 0, "the listeners listened");
    print_row(
        "events: client time per call, in memory (canned answer), nothing listening vs a `log` logger taking every event vs an `on_event` listener (JSON)",
        format!(
            "{:.2} us vs {:.2} us ({:.2}x) vs {:.2} us ({:.2}x)",
            mem[0],
            mem[1],
            mem[1] / mem[0],
            mem[2],
            mem[2] / mem[0]
        ),
        "(cost of listening)",
        true,
    );
    print_row(
        "events: per call on loopback (emulator), nothing listening vs a `log` logger taking every event",
        format!("{:.1} us vs {:.1} us = {:.3}x", net[0], net[1], net[1] / net[0]),
        "nothing listening: within noise of BENCHMARKS.md's per-call figure",
        true,
    );
    true
}
