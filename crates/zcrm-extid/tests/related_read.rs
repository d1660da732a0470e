//! Reading and unlinking against the emulator over HTTP: the documented samples of spec §2.1/§2.2 as the
//! client sends them (URL and header as journaled by the emulator, and the answers), pagination over 1,000
//! related records with page tokens (v8) and pages (v5), the 2,000-record page limit, 204, 304, `fields` missing
//! (nothing sent), and deletes (single, list, 207).

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};
use zcrm_extid::{
    ApiVersion, Client, DeleteRelated, Error, ErrorCode, GetRelated, Parent, RelatedResponse, RetryPolicy,
    UpdateRelated,
};

const CONTACT: &str = "111111000000085009";

fn start(seed: Seed) -> Emulator {
    Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap()
}

fn client(emu: &Emulator, version: ApiVersion) -> Client {
    let (id, secret, refresh) = Emulator::default_credentials();
    Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .api_version(version)
        .retry_policy(RetryPolicy { max_retries: 0, ..RetryPolicy::default() })
        .build()
        .unwrap()
}

fn contact() -> Parent {
    Parent::external("External_Contact_ID", "extcontact3").unwrap()
}

/// The journaled CRM API calls: (method, path?query, X-EXTERNAL).
fn calls(emu: &Emulator) -> Vec<(String, String, Option<String>)> {
    emu.journal()
        .into_iter()
        .filter(|e| e.path.starts_with("/crm/"))
        .map(|e| {
            let target = if e.query.is_empty() { e.path.clone() } else { format!("{}?{}", e.path, e.query) };
            (e.method.clone(), target, e.header("x-external").map(str::to_owned))
        })
        .collect()
}

#[test]
fn the_documented_list_sample() {
    let emu = start(Seed::related_samples());
    let request =
        GetRelated::builder("Contacts", Parent::external("External_Contact_ID", "583472934").unwrap(), "Deals")
            .fields(["Closing_Date", "Stage", "Account_Name"])
            .build()
            .unwrap();
    let page = client(&emu, ApiVersion::V7).get_related(&request).unwrap().into_page().unwrap();
    assert_eq!(
        calls(&emu),
        [(
            "GET".into(),
            "/crm/v7/Contacts/583472934/Deals?fields=Closing_Date,Stage,Account_Name".into(),
            Some("Contacts.External_Contact_ID".into())
        )]
    );
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].id, "4876876000002095001");
    let mut fields = page.rows[0].fields.clone();
    fields.sort_keys();
    assert_eq!(
        Value::Object(fields),
        json!({"Account_Name": {"name": "Chapman", "id": "4876876000001036013"}, "Closing_Date": "2022-08-09",
               "Contact_Role": 11112748204747392u64, "Stage": "Closed Won"})
    );
    let info = page.info.unwrap();
    assert_eq!((info.per_page, info.count, info.page, info.more_records), (Some(200), Some(1), Some(1), false));
    assert_eq!((info.next_page_token, info.previous_page_token, info.page_token_expiry), (None, None, None));
}

#[test]
fn the_documented_single_record_sample() {
    let emu = start(Seed::related_samples());
    let request = GetRelated::builder("Contacts", contact(), "Deals")
        .related_by_external("External_Deal_ID")
        .related("externaldeal3")
        .build()
        .unwrap();
    let answer = client(&emu, ApiVersion::V7).get_related(&request).unwrap();
    assert_eq!(
        calls(&emu),
        [(
            "GET".into(),
            "/crm/v7/Contacts/extcontact3/Deals/externaldeal3".into(),
            Some("Deals.External_Deal_ID,Contacts.External_Contact_ID".into())
        )]
    );
    let page = answer.into_page().unwrap();
    assert!(page.info.is_none(), "the single form has no info");
    assert_eq!(page.rows[0].id, "111111000000094028");
    assert_eq!(
        Value::Object(page.rows[0].fields.clone()),
        json!({"Contact_Role": "111111000000026002", "External_Deal_ID": "externaldeal3"})
    );
}

#[test]
fn the_documented_delete_sample_sends_both_pairs() {
    let emu = start(Seed::related_samples());
    let request = DeleteRelated::builder("Contacts", contact(), "Deals")
        .related_by_external("External_Deal_ID")
        .value("extdeal3")
        .build()
        .unwrap();
    let response = client(&emu, ApiVersion::V8).delete_related(&request).unwrap();
    assert_eq!(
        calls(&emu),
        [(
            "DELETE".into(),
            "/crm/v8/Contacts/extcontact3/Deals/extdeal3".into(),
            Some("Contacts.External_Contact_ID,Deals.External_Deal_ID".into())
        )]
    );
    assert_eq!(response.status, 200);
    let o = &response.outcomes[0];
    assert_eq!((o.code(), o.message(), o.id()), ("SUCCESS", "relation removed", Some("111111000000094040")));
    assert_eq!(emu.related("Contacts", CONTACT, "Deals").len(), 1);
}

/// The default seed plus `n` deals `d0`.. linked to contact extcontact3 (ids ascending, so reads, which are
/// id-descending, start at `d{n-1}`).
fn linked(n: usize) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Deals", "External_Deal_ID", "d", n);
    let emu = start(seed);
    let c = client(&emu, ApiVersion::V8);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let request = UpdateRelated::builder("Contacts", contact(), "Deals")
            .related_by_external("External_Deal_ID")
            .records(chunk.iter().map(|i| json!({"External_Deal_ID": format!("d{i}")})))
            .build()
            .unwrap();
        assert!(c.update_related(&request).unwrap().all_succeeded());
    }
    emu.clear_journal();
    emu
}

/// The rows' `External_Deal_ID`s, and the error that ended the iteration, if any.
fn read_all(emu: &Emulator, version: ApiVersion) -> (Vec<String>, Option<Error>) {
    let request = GetRelated::builder("Contacts", contact(), "Deals").fields(["External_Deal_ID"]).build().unwrap();
    let mut names = Vec::new();
    for row in client(emu, version).iter_related(request).unwrap() {
        match row {
            Ok(row) => names.push(row.fields["External_Deal_ID"].as_str().unwrap().to_owned()),
            Err(e) => return (names, Some(e)),
        }
    }
    (names, None)
}

#[test]
fn one_thousand_related_records_with_page_tokens_and_with_pages() {
    let emu = linked(1000);
    let want: Vec<String> = (0..1000).rev().map(|i| format!("d{i}")).collect();
    let (read, e) = read_all(&emu, ApiVersion::V8);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(read, want);
    let v8 = calls(&emu);
    assert_eq!(v8.len(), 5);
    assert!(!v8[0].1.contains("page"), "{}", v8[0].1);
    assert!(v8[1..].iter().all(|c| c.1.contains("&page_token=") && !c.1.contains("&page=")), "{v8:?}");
    emu.clear_journal();
    let (read, e) = read_all(&emu, ApiVersion::V5);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(read, want);
    let v5: Vec<String> = calls(&emu).into_iter().map(|c| c.1).collect();
    assert_eq!(v5.len(), 5);
    for (i, target) in v5.iter().enumerate().skip(1) {
        assert!(target.ends_with(&format!("&page={}", i + 1)), "{target}");
    }
}

#[test]
fn pages_stop_at_2000_records_before_v7_and_tokens_go_past() {
    let emu = linked(2001);
    let (read, e) = read_all(&emu, ApiVersion::V5);
    let e = e.unwrap();
    assert_eq!(read.len(), 2000);
    assert_eq!((e.code(), e.status()), (ErrorCode::LimitExceeded, Some(400)));
    assert!(e.hint().unwrap().contains("v7 or v8"), "{e}");
    let (all, e) = read_all(&emu, ApiVersion::V8);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(all.len(), 2001);
    assert_eq!(all.iter().collect::<std::collections::HashSet<_>>().len(), 2001);
}

#[test]
fn no_content_and_not_modified() {
    let emu = start(Seed::related_samples());
    let c = client(&emu, ApiVersion::V8);
    let none = GetRelated::builder("Contacts", contact(), "Deals")
        .related_by_external("External_Deal_ID")
        .fields(["Deal_Name"])
        .ids(["no-such-deal"])
        .build()
        .unwrap();
    let page = c.get_related(&none).unwrap().into_page().unwrap();
    assert_eq!((page.status, page.rows.len(), page.info.is_none()), (204, 0, true));
    assert_eq!(c.iter_related(none).unwrap().count(), 0);
    let since = |t: &str| {
        GetRelated::builder("Contacts", contact(), "Deals").fields(["Deal_Name"]).if_modified_since(t).build().unwrap()
    };
    assert_eq!(c.get_related(&since("2022-08-09T05:00:00Z")).unwrap(), RelatedResponse::NotModified);
    let mut rows = c.iter_related(since("2022-08-09T05:00:00Z")).unwrap();
    assert!(rows.next().is_none() && rows.not_modified());
    assert_eq!(c.get_related(&since("2022-08-09T04:00:00Z")).unwrap().rows().len(), 2);
    let sent = emu.journal().into_iter().filter_map(|e| e.header("if-modified-since").map(str::to_owned)).next_back();
    assert_eq!(sent.as_deref(), Some("2022-08-09T04:00:00+00:00"));
}

#[test]
fn fields_missing_is_refused_before_anything_is_sent() {
    let emu = start(Seed::related_samples());
    let c = client(&emu, ApiVersion::V5);
    let request = GetRelated::builder("Contacts", contact(), "Deals").build().unwrap();
    for e in [c.get_related(&request).unwrap_err(), c.iter_related(request.clone()).unwrap_err()] {
        assert_eq!(e.invalid_input().unwrap().location(), "fields");
    }
    assert_eq!(c.prepare_get_related(&request).unwrap_err().code(), ErrorCode::InvalidInput);
    assert!(emu.journal().is_empty(), "{:?}", emu.journal());
    // v2.1 needs no fields.
    assert_eq!(client(&emu, ApiVersion::V2_1).get_related(&request).unwrap().rows().len(), 2);
}

#[test]
fn delete_single_list_and_mixed() {
    let emu = linked(5);
    let c = client(&emu, ApiVersion::V8);
    let delete = |values: &[&str]| {
        let r = DeleteRelated::builder("Contacts", contact(), "Deals")
            .related_by_external("External_Deal_ID")
            .values(values.iter().copied())
            .build()
            .unwrap();
        c.delete_related(&r).unwrap()
    };
    let one = delete(&["d0"]);
    assert_eq!((one.status, one.outcomes[0].code()), (200, "SUCCESS"));
    let list = delete(&["d1", "d2"]);
    assert_eq!((list.status, list.all_succeeded()), (200, true));
    let mixed = delete(&["d3", "nope", "d1"]);
    assert_eq!(mixed.status, 207);
    let codes: Vec<(usize, &str)> = mixed.outcomes.iter().map(|o| (o.index, o.code())).collect();
    assert_eq!(codes, [(0, "SUCCESS"), (1, "INVALID_DATA"), (2, "INVALID_DATA")]);
    assert_eq!(mixed.outcomes[1].details()["api_name"], "External_Deal_ID");
    let journal = calls(&emu);
    assert_eq!(journal[0].1, "/crm/v8/Contacts/extcontact3/Deals/d0");
    assert_eq!(journal[1].1, "/crm/v8/Contacts/extcontact3/Deals?ids=d1,d2");
    let left: Vec<String> = emu.related("Contacts", CONTACT, "Deals").into_iter().map(|(id, _)| id).collect();
    assert_eq!(left, [emu.find_external("Deals", "External_Deal_ID", "d4").unwrap()]);
}
