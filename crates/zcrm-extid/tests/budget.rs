//! The shared budget against a real Redis and the emulator: the limit holds across clients, slots go in arrival
//! order, the credit reserve stops a job cleanly, a refused token is replaced once, a wrong URL or password is an
//! error before any call, and no key name holds a secret. (Separate processes: `crates/zcrm-cli/tests/budget.rs`.)
#![cfg(feature = "redis")]

#[path = "../../../tests/redis/test_redis.rs"]
mod test_redis;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use test_redis::{TestRedis, unique_prefix};
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};
use zcrm_extid::budget::{BudgetConfig, OnRedisError, Reserve};
use zcrm_extid::bulk::{BulkOptions, BulkRow, BulkSpec, Cancel};
use zcrm_extid::{Client, ErrorCode, ErrorKind, Parent};

fn emulator(contacts: usize, deals: usize, config: EmulatorConfig) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    seed.add_records("Deals", "External_Deal_ID", "d", deals);
    Emulator::start(EmulatorConfig { seed, ..config }).unwrap()
}

fn client(emu: &Emulator, budget: Option<BudgetConfig>) -> zcrm_extid::Result<Client> {
    let (id, secret, refresh) = Emulator::default_credentials();
    let b =
        Client::builder().refresh_token(id, secret, refresh).base_url(emu.base_url()).accounts_url(emu.accounts_url());
    match budget {
        Some(c) => b.budget(c),
        None => b,
    }
    .build()
}

fn config(redis: &TestRedis, name: &str, concurrency: usize) -> BudgetConfig {
    BudgetConfig {
        prefix: Some(unique_prefix(name)),
        concurrency,
        heavy_concurrency: concurrency,
        ..BudgetConfig::new(redis.url.clone())
    }
}

/// `rows` pairs, `per_contact` deals per contact.
fn rows(rows: usize, per_contact: usize) -> Vec<Result<BulkRow, zcrm_extid::InvalidInput>> {
    (0..rows)
        .map(|i| {
            Ok(BulkRow {
                parent: Parent::external("External_Contact_ID", format!("c{}", i / per_contact))?,
                record: json!({"External_Deal_ID": format!("d{i}")}),
            })
        })
        .collect()
}

fn spec() -> BulkSpec {
    BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build().unwrap()
}

#[test]
fn the_shared_limit_holds_across_clients_and_without_it_they_collide() {
    let Some(redis) = TestRedis::shared() else { return };
    let run = |budget: Option<&BudgetConfig>| {
        let emu = emulator(
            30,
            3_000,
            EmulatorConfig { concurrency: 4, latency: Duration::from_millis(20), ..EmulatorConfig::default() },
        );
        std::thread::scope(|s| {
            for k in 0..3 {
                let c = client(&emu, budget.cloned()).unwrap();
                s.spawn(move || {
                    let rows: Vec<_> = rows(3_000, 100).into_iter().skip(k * 1_000).take(1_000).collect();
                    let options = BulkOptions { concurrency: 10, adaptive: false, ..BulkOptions::default() };
                    let report = c.link_all(&spec(), &options, rows).unwrap();
                    assert_eq!(report.summary.succeeded + report.summary.failed, 1_000);
                });
            }
        });
        (emu.stats(), emu.relation_count())
    };
    let shared = config(&redis, "limit", 4);
    let (stats, relations) = run(Some(&shared));
    assert_eq!(stats.rejected_concurrency, 0, "{stats:?}");
    assert!(stats.max_in_flight <= 4, "{stats:?}");
    assert_eq!(relations, 3_000);
    assert_eq!(stats.tokens_issued, 1, "one token for the three clients");
    let (alone, _) = run(None);
    assert!(alone.rejected_concurrency > 0, "three clients of 10 slots against 4: {alone:?}");
    assert_eq!(alone.tokens_issued, 3);
}

#[test]
fn slots_go_in_arrival_order() {
    let Some(redis) = TestRedis::shared() else { return };
    let emu = emulator(1, 1, EmulatorConfig::default());
    let c = config(&redis, "fifo", 1);
    let clients: Vec<Client> = (0..3).map(|_| client(&emu, Some(c.clone())).unwrap()).collect();
    let gate = |i: usize| clients[i].call_gate().unwrap().clone();
    let first = gate(0).enter(true, None, &Cancel::new()).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for i in [1, 2] {
            let (g, order) = (gate(i), order.clone());
            s.spawn(move || {
                let pass = g.enter(true, None, &Cancel::new()).unwrap();
                order.lock().unwrap().push(i);
                std::thread::sleep(Duration::from_millis(50));
                drop(pass);
            });
            std::thread::sleep(Duration::from_millis(150)); // client 1 queues before client 2
        }
        let status = clients[0].budget().unwrap().status().unwrap();
        assert_eq!((status.holders.len(), status.waiting), (1, 2), "{status}");
        first.finish(false);
    });
    assert_eq!(*order.lock().unwrap(), [1, 2]);
    // A cancelled waiter gives its place up.
    let held = gate(0).enter(true, None, &Cancel::new()).unwrap();
    let cancel = Cancel::new();
    cancel.cancel();
    assert_eq!(gate(1).enter(true, None, &cancel).unwrap_err().kind(), ErrorKind::Cancelled);
    drop(held);
    let status = clients[0].budget().unwrap().status().unwrap();
    assert_eq!((status.holders.len(), status.waiting), (0, 0), "{status}");
}

#[test]
fn the_credit_reserve_stops_a_job_cleanly_with_an_outcome_for_every_row() {
    let Some(redis) = TestRedis::shared() else { return };
    // 100 credits a day; Zoho reports the credits left once half are used (spec §5.4).
    let emu = emulator(100, 100, EmulatorConfig { credits: Some(100), ..EmulatorConfig::default() });
    let c = client(&emu, Some(config(&redis, "reserve", 10))).unwrap();
    let options = BulkOptions { concurrency: 5, reserve: Some(Reserve::Credits(30)), ..BulkOptions::default() };
    let report = c.link_all(&spec(), &options, rows(100, 1)).unwrap();
    let s = &report.summary;
    assert_eq!(report.outcomes.len(), 100, "every row has an outcome");
    assert!(s.stopped.is_none(), "a clean stop, not the breaker: {:?}", s.stopped);
    assert_eq!(s.budget_stop.as_ref().map(|e| e.code()), Some(ErrorCode::CreditReserve));
    let used = emu.stats().credits_used;
    assert!((60..=70).contains(&used), "stopped before eating into the 30 kept: {used} used");
    assert_eq!(s.succeeded, used);
    let skipped: Vec<_> = report.outcomes.iter().filter(|o| o.outcome.code() == "NOT_ATTEMPTED").collect();
    assert_eq!(skipped.len() as u64, 100 - used);
    let failure = skipped[0].outcome.result.as_ref().unwrap_err();
    assert_eq!(failure.details["cause"], "CREDIT_RESERVE");
    assert!(failure.message.contains("reserve"), "{}", failure.message);
    // A reserve without a budget, or in percent without the allowance, is refused before anything is sent.
    let plain = client(&emu, None).unwrap();
    let e = plain.link_all(&spec(), &options, rows(1, 1)).unwrap_err();
    assert_eq!(e.setting(), Some("reserve"));
    let percent = BulkOptions { reserve: Some(Reserve::Percent(10.0)), ..options };
    assert_eq!(c.link_all(&spec(), &percent, rows(1, 1)).unwrap_err().setting(), Some("reserve"));
}

#[test]
fn a_refused_token_is_replaced_once_for_all_clients() {
    let Some(redis) = TestRedis::shared() else { return };
    let emu = emulator(4, 4, EmulatorConfig::default());
    let c = config(&redis, "replace", 10);
    let clients: Vec<Client> = (0..4).map(|_| client(&emu, Some(c.clone())).unwrap()).collect();
    let link = |c: &Client, i: usize| {
        let rows = rows(4, 1).into_iter().skip(i).take(1);
        c.link_all(&spec(), &BulkOptions::default(), rows).unwrap().summary.succeeded
    };
    for (i, c) in clients.iter().enumerate() {
        assert_eq!(link(c, i), 1);
    }
    assert_eq!(emu.stats().tokens_issued, 1);
    emu.expire_tokens(); // Zoho refuses the shared token from now on (401 INVALID_TOKEN)
    std::thread::scope(|s| {
        for (i, c) in clients.iter().enumerate() {
            s.spawn(move || assert_eq!(link(c, i), 1));
        }
    });
    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 2, "one replacement, not one per client: {stats:?}");
    assert!(stats.rejected_token <= 4, "{stats:?}");
}

#[test]
fn a_wrong_url_or_password_is_a_clear_error_before_any_call() {
    let emu = emulator(1, 1, EmulatorConfig::default());
    let nowhere = BudgetConfig { timeout: Duration::from_millis(500), ..BudgetConfig::new("redis://127.0.0.1:1") };
    let e = client(&emu, Some(nowhere.clone())).unwrap_err();
    assert_eq!((e.code(), e.kind()), (ErrorCode::BudgetUnavailable, ErrorKind::Transport), "{e}");
    assert!(e.to_string().contains("redis://127.0.0.1:1"), "{e}");
    let e = client(&emu, Some(BudgetConfig::new("http://127.0.0.1:6379"))).unwrap_err();
    assert_eq!(e.setting(), Some("budget"));
    // With on_redis_error = local, the client starts on its own limits and works.
    let local = client(&emu, Some(BudgetConfig { on_redis_error: OnRedisError::Local, ..nowhere })).unwrap();
    assert_eq!(local.link_all(&spec(), &BulkOptions::default(), rows(1, 1)).unwrap().summary.succeeded, 1);
    emu.clear_journal();

    let Some(redis) = TestRedis::private(&["--requirepass", "right-pass"]) else { return };
    let wrong = BudgetConfig::new(redis.url_with_password("wrong-pass"));
    let e = client(&emu, Some(wrong)).unwrap_err();
    assert_eq!((e.code(), e.kind(), e.setting()), (ErrorCode::BudgetAuth, ErrorKind::InvalidConfig, Some("budget")));
    assert!(!e.to_string().contains("wrong-pass") && !format!("{e:?}").contains("wrong-pass"), "{e}");
    let e = client(&emu, Some(BudgetConfig::new(redis.url.clone()))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BudgetAuth, "no password: {e}");
    assert!(emu.journal().is_empty(), "nothing reached the emulator: {:?}", emu.journal());
    let right = client(&emu, Some(BudgetConfig::new(redis.url_with_password("right-pass")))).unwrap();
    assert_eq!(right.link_all(&spec(), &BulkOptions::default(), rows(1, 1)).unwrap().summary.succeeded, 1);
}

#[test]
fn no_key_name_holds_a_secret_and_the_token_lives_as_long_as_it_does() {
    let Some(redis) = TestRedis::shared() else { return };
    let emu =
        emulator(2, 200, EmulatorConfig { token_lifetime: Duration::from_secs(120), ..EmulatorConfig::default() });
    let c = client(&emu, Some(config(&redis, "secrets", 10))).unwrap();
    assert_eq!(c.link_all(&spec(), &BulkOptions::default(), rows(200, 100)).unwrap().summary.succeeded, 200);
    let budget = c.budget().unwrap();
    let names = budget.key_names().unwrap();
    assert!(names.len() >= 4, "{names:?}");
    let token_key = names.iter().find(|k| k.contains(":token:") && k.matches(':').count() == 3).unwrap();
    let stored = redis.command(&["GET", token_key]);
    let value: serde_json::Value = serde_json::from_str(stored.lines().nth(1).unwrap()).unwrap();
    let access_token = value["t"].as_str().unwrap().to_owned();
    let (id, secret, refresh) = Emulator::default_credentials();
    for name in &names {
        for s in [id, secret, refresh, access_token.as_str(), "EMULATORCLIENTID", "refresh.token"] {
            assert!(!name.contains(s), "{name} holds {s}");
        }
    }
    let ttl: u64 = redis.command(&["PTTL", token_key]).trim().trim_start_matches(':').parse().unwrap();
    assert!((110_000..=120_000).contains(&ttl), "the token's key expires with the token: {ttl} ms");
    assert!(!format!("{budget:?}").contains(&access_token));
    let status = budget.status().unwrap().to_string();
    assert!(!status.contains(&access_token) && status.contains("credits: 2 spent"), "{status}");
}
