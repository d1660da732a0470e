//! Hostile external values in reads and unlinks: the related value of the single forms is exactly one path
//! segment (read back by the emulator's own decoder), `ids` values survive the query intact (read back by the
//! emulator's own query parser) or, with a `,`, are refused naming their index; and, over HTTP, the emulator
//! finds, reads and unlinks a related record by any such value.

mod common;

use common::{config, external_value};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;
use zcrm_emulator::http::parse_form;
use zcrm_emulator::wire::decode_segment;
use zcrm_emulator::{Emulator, EmulatorConfig};
use zcrm_extid::{ApiVersion, BaseUrl, Client, DeleteRelated, GetRelated, Parent, RetryPolicy, UpdateRelated};

fn non_empty() -> impl Strategy<Value = String> {
    external_value().prop_filter("non-empty", |v| !v.is_empty())
}

fn parent() -> Parent {
    Parent::external("External_Contact_ID", "extcontact3").unwrap()
}

/// The path segments and the query of a prepared URL.
fn split(url: &str) -> (Vec<String>, String) {
    let rest = url.strip_prefix("https://www.zohoapis.com").unwrap();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    (path.split('/').map(str::to_owned).collect(), query.to_owned())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_related_value_is_one_segment(v in non_empty(), version in select(ApiVersion::ALL.to_vec())) {
        let base = BaseUrl::parse("https://www.zohoapis.com").unwrap();
        let get = GetRelated::builder("Contacts", parent(), "Deals").related_by_external("External_Deal_ID")
            .related(v.as_str()).build().unwrap();
        let delete = DeleteRelated::builder("Contacts", parent(), "Deals").related_by_external("External_Deal_ID")
            .value(v.as_str()).build().unwrap();
        for url in [get.prepare(&base, version).url().to_owned(), delete.prepare(&base, version).url().to_owned()] {
            let (segments, query) = split(&url);
            prop_assert_eq!(segments.len(), 7, "{}", url);
            prop_assert_eq!(&segments[5], "Deals");
            prop_assert_eq!(decode_segment(&segments[6]), Some(v.clone()));
            prop_assert_eq!(query, "");
        }
    }

    #[test]
    fn ids_survive_the_query_or_are_refused(values in vec(non_empty(), 2..6)) {
        let distinct: std::collections::HashSet<&String> = values.iter().collect();
        prop_assume!(distinct.len() == values.len());
        let base = BaseUrl::parse("https://www.zohoapis.com").unwrap();
        let built = DeleteRelated::builder("Contacts", parent(), "Deals").related_by_external("External_Deal_ID")
            .values(values.clone()).build();
        match values.iter().position(|v| v.contains(',')) {
            Some(i) => prop_assert_eq!(built.unwrap_err().location(), format!("ids[{i}]")),
            None => {
                let url = built.unwrap().prepare(&base, ApiVersion::V8).url().to_owned();
                let (segments, query) = split(&url);
                prop_assert_eq!(segments.len(), 6, "{}", url);
                let params = parse_form(query.as_bytes());
                prop_assert_eq!(params.len(), 1, "{}", query);
                prop_assert_eq!(&params[0].0, "ids");
                let read: Vec<String> = params[0].1.split(',').map(str::to_owned).collect();
                prop_assert_eq!(read, values);
            }
        }
    }
}

fn http_config() -> ProptestConfig {
    // Each case is three calls over loopback: a tenth of the offline suites' count, at least 50.
    ProptestConfig::with_cases((config().cases / 10).max(50))
}

proptest! {
    #![proptest_config(http_config())]

    #[test]
    fn hostile_values_round_trip_through_the_emulator(v in non_empty()) {
        let emu = Emulator::start(EmulatorConfig::default()).unwrap();
        let mut deal = serde_json::Map::new();
        deal.insert("External_Deal_ID".into(), json!(v));
        let id = emu.insert_records("Deals", vec![deal]).unwrap().remove(0);
        let (cid, secret, refresh) = Emulator::default_credentials();
        let client = Client::builder().refresh_token(cid, secret, refresh).base_url(emu.base_url())
            .accounts_url(emu.accounts_url()).api_version(ApiVersion::V8)
            .retry_policy(RetryPolicy { max_retries: 0, ..RetryPolicy::default() }).build().unwrap();
        let link = UpdateRelated::builder("Contacts", parent(), "Deals").related_by_external("External_Deal_ID")
            .record(json!({"External_Deal_ID": v})).build().unwrap();
        prop_assert!(client.update_related(&link).unwrap().all_succeeded());
        let read = GetRelated::builder("Contacts", parent(), "Deals").related_by_external("External_Deal_ID")
            .related(v.as_str()).build().unwrap();
        let answer = client.get_related(&read).unwrap();
        prop_assert_eq!(answer.rows().len(), 1);
        prop_assert_eq!(&answer.rows()[0].id, &id);
        prop_assert_eq!(&answer.rows()[0].fields["External_Deal_ID"], &json!(v));
        let unlink = DeleteRelated::builder("Contacts", parent(), "Deals").related_by_external("External_Deal_ID")
            .value(v.as_str()).build().unwrap();
        let outcome = client.delete_related(&unlink).unwrap().outcomes.remove(0);
        prop_assert_eq!(outcome.id(), Some(id.as_str()));
        prop_assert!(emu.related("Contacts", "111111000000085009", "Deals").is_empty());
    }
}
