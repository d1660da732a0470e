use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::call::Call;
use crate::{ApiVersion, DeleteRelated, GetRelated, Parent, UpdateRelated};

#[test]
fn nothing_is_built_when_nothing_listens() {
    // No `log` logger in this test binary, no listener: the request is never described, nor timed.
    let (info, started) = request_sent(&Events::default(), 1, || panic!("described with nobody listening"));
    assert!(info.is_none() && started.is_none());
    // Inside a job it is timed (for the job's metrics), still not described.
    let job = JobScope::new();
    let _in_job = enter_job(&job);
    let (info, started) = request_sent(&Events::default(), 1, || panic!("described with nobody listening"));
    assert!(info.is_none() && started.is_some());
    request_finished(&Events::default(), None, 1, Some(Duration::from_millis(3)), Some(200), None, Some(7));
    let m = job.recorder.snapshot(1, Duration::from_secs(1));
    assert_eq!((m.timed_calls, m.credits_used, m.credits_remaining), (1, 1, Some(7)));
}

#[test]
fn a_listener_gets_typed_events_and_a_panicking_one_is_ignored() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let events = Events::new(Some(Arc::new(move |e: &Event| sink.lock().unwrap().push(e.to_string()))));
    let info = || RequestInfo {
        method: crate::Method::Put,
        path: "/crm/v5/Contacts/{id}/Deals".into(),
        crm_module: "Contacts".into(),
        records: Some(3),
    };
    let (info, started) = request_sent(&events, 2, info);
    assert!(started.is_some());
    request_finished(&events, info, 2, Some(Duration::from_micros(12_345)), Some(200), None, Some(99));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "PUT /crm/v5/Contacts/{id}/Deals sent (attempt 2, 3 records)",
            "PUT /crm/v5/Contacts/{id}/Deals -> 200 in 12.3 ms (attempt 2, 3 records); 99 credits remaining"
        ]
    );
    let panics = Events::new(Some(Arc::new(|_: &Event| panic!("a listener bug"))));
    token_throttled(&panics, Duration::from_secs(60));
}

#[test]
fn fields_and_json_are_stable() {
    let e = Event {
        job: Some(7),
        kind: EventKind::RetryScheduled {
            cause: RetryCause::ServerError,
            status: Some(503),
            error: "INTERNAL_ERROR".into(),
            delay: Duration::from_micros(250_400),
            retry: 2,
        },
    };
    assert_eq!(
        e.to_json(),
        json!({"event": "retry.scheduled", "cause": "5xx", "status": 503, "error": "INTERNAL_ERROR",
               "delay_ms": 250.4, "retry": 2, "job": 7, "level": "info", "target": "zcrm_extid::retry",
               "message": "retry 2 in 250 ms after 503 INTERNAL_ERROR (5xx)"})
    );
    let mut keys = Vec::new();
    log::kv::Source::visit(&e, &mut KeyNames(&mut keys)).unwrap();
    assert_eq!(keys, ["event", "cause", "status", "error", "delay_ms", "retry", "job"]);
    let limited = Event { job: None, kind: EventKind::RateLimited { limit: Some(4), credits_remaining: Some(0) } };
    assert_eq!(limited.to_string(), "429 TOO_MANY_REQUESTS; concurrency limit now 4; the day's API credits are spent");
    assert_eq!((limited.level(), limited.target()), (log::Level::Info, TARGET_HTTP));
}

struct KeyNames<'a>(&'a mut Vec<String>);

impl<'kvs> log::kv::VisitSource<'kvs> for KeyNames<'_> {
    fn visit_pair(&mut self, key: log::kv::Key<'kvs>, _: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
        self.0.push(key.to_string());
        Ok(())
    }
}

#[test]
fn path_templates_name_fields_never_values() {
    let ext = || Parent::external("External_Contact_ID", "ERP/7?x#1").unwrap();
    let update = UpdateRelated::builder("Contacts", ext(), "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"External_Deal_ID": "deal/9"}))
        .build()
        .unwrap();
    assert_eq!(update.path_template(ApiVersion::V5), "/crm/v5/Contacts/{External_Contact_ID}/Deals");
    assert_eq!(update.record_count(), Some(1));
    let one = GetRelated::builder("Contacts", Parent::id("111").unwrap(), "Deals")
        .related_by_external("External_Deal_ID")
        .related("deal/9")
        .fields(["Deal_Name"])
        .build()
        .unwrap();
    assert_eq!(one.path_template(ApiVersion::V7), "/crm/v7/Contacts/{id}/Deals/{External_Deal_ID}");
    assert_eq!(one.record_count(), None);
    let many = DeleteRelated::builder("Contacts", ext(), "Deals").value("5").value("6").build().unwrap();
    assert_eq!(many.path_template(ApiVersion::V5), "/crm/v5/Contacts/{External_Contact_ID}/Deals");
    assert_eq!(many.record_count(), Some(2));
    let single = DeleteRelated::builder("Contacts", ext(), "Deals").value("5").build().unwrap();
    assert_eq!(single.path_template(ApiVersion::V5), "/crm/v5/Contacts/{External_Contact_ID}/Deals/{id}");
}
