//! Shared pieces of the proptest suites: the case count, and a generator of "update related records" inputs
//! (valid and invalid) that the suites feed to the public API.
#![allow(dead_code)] // each test crate uses a different subset

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use zcrm_extid::{ApiVersion, InvalidInput, Parent, UpdateRelated};

/// The number of cases: `PROPTEST_CASES` if set (CI sets at least 1,000), else 1,000 (proptest's own default
/// of 256 is too low for these suites).
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(1000);
    ProptestConfig::with_cases(cases)
}

/// Base URLs the client accepts, with and without a trailing `/` and a path prefix.
pub const BASES: &[&str] = &[
    "https://www.zohoapis.com",
    "https://www.zohoapis.eu/",
    "http://127.0.0.1:8123",
    "https://proxy.example.com/zoho",
];

/// RFC 3986 unreserved.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// Any char, control characters included (much cheaper to generate than `any::<String>()` in debug builds).
pub fn any_text(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=max).prop_map(|cs| cs.into_iter().collect())
}

/// A valid Zoho API name (mostly realistic ones, so modules and lists collide sometimes).
pub fn valid_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["Contacts", "Deals", "Leads", "Accounts", "Products", "Appointments__s", "_x"])
            .prop_map(str::to_owned),
        1 => "[A-Za-z_][A-Za-z0-9_]{0,20}",
    ]
}

/// Probably not an API name (some of these are valid by chance: the oracle decides, not the generator).
pub fn odd_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[0-9][A-Za-z0-9_]{0,5}",
        "[A-Za-z]{1,4}[ ./?#%\\-:é\r\n\u{0}][A-Za-z]{0,4}",
        select(vec!["Kontakté", "Écrit", "ü_x", "Ωmega", "名前"]).prop_map(str::to_owned),
        any_text(8),
    ]
}

pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![19 => valid_name(), 1 => odd_name()]
}

/// Field names: external fields, `id`, odd ones.
pub fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vec!["External_Contact_ID", "External_Deal_ID", "Ext", "Contact_Role"]).prop_map(str::to_owned),
        2 => "[A-Za-z_][A-Za-z0-9_]{0,20}",
        1 => Just("id".to_owned()),
        1 => odd_name(),
    ]
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParentIn {
    Id(String),
    External { field: String, value: String },
}

impl ParentIn {
    pub fn value(&self) -> &str {
        match self {
            ParentIn::Id(v) | ParentIn::External { value: v, .. } => v,
        }
    }
}

/// External values: anything, with the route-changing ones over-represented.
pub fn external_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => any_text(12),
        2 => vec(
            select(vec!["/", "?", "#", "%", ".", "..", " ", "ü", "😀", "a", "%2F", "\0", "\r\n", "+", "~", "9"]),
            0..6,
        )
        .prop_map(|parts| parts.concat()),
        1 => select(vec![".", "..", "extcontact3", "583472934", "http://x/y?z#w"]).prop_map(str::to_owned),
    ]
}

pub fn parent() -> impl Strategy<Value = ParentIn> {
    prop_oneof![
        8 => "[0-9]{1,19}".prop_map(ParentIn::Id),
        1 => prop_oneof![
            Just(String::new()),
            "[0-9]{0,4}[^0-9][0-9]{0,4}",
            Just("١٢٣".to_owned()),
            any::<String>(),
        ]
        .prop_map(ParentIn::Id),
        8 => (valid_name(), external_value()).prop_map(|(field, value)| ParentIn::External { field, value }),
        1 => (field_name(), any::<String>()).prop_map(|(field, value)| ParentIn::External { field, value }),
    ]
}

/// A JSON value for relation fields, nested up to two levels (no floats: they do not round-trip exactly through
/// every language). Written out by hand: much cheaper to generate in debug builds than `prop_recursive`.
pub fn json_value() -> impl Strategy<Value = Value> {
    fn leaf() -> impl Strategy<Value = Value> + Clone {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any_text(12).prop_map(Value::from),
        ]
    }
    fn key() -> impl Strategy<Value = String> + Clone {
        prop_oneof![select(vec!["id", "name", "a", "b", "Contact_Role"]).prop_map(str::to_owned), any_text(6)]
    }
    fn nest<S: Strategy<Value = Value> + Clone>(inner: S) -> impl Strategy<Value = Value> + Clone {
        prop_oneof![
            4 => inner.clone(),
            1 => vec(inner.clone(), 0..3).prop_map(Value::Array),
            1 => vec((key(), inner), 0..3).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    }
    nest(nest(leaf()))
}

/// What can be wrong with one record.
#[derive(Debug, Clone)]
pub enum Fault {
    MissingKey,
    EmptyKey,
    NumberKey(i64),
    NullKey,
    BoolKey,
    /// A string key that is no record id (for records keyed by an external field it is a valid value).
    OtherStringKey(String),
    /// The key of an earlier record.
    DupOf(usize),
    /// An `id` field as well (wrong for records keyed by an external field).
    ExtraId(String),
    /// A field whose name is (probably) not an API name.
    BadFieldName(String),
    NonObject(Value),
}

pub fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::MissingKey),
        Just(Fault::EmptyKey),
        prop_oneof![any::<i64>(), Just(111_111_000_000_094_028)].prop_map(Fault::NumberKey),
        Just(Fault::NullKey),
        Just(Fault::BoolKey),
        prop_oneof!["[0-9]{0,3}[a-z .\\-][0-9]{0,3}", any_text(12), "[0-9]{1,5}"].prop_map(Fault::OtherStringKey),
        any::<usize>().prop_map(Fault::DupOf),
        "[0-9]{1,18}".prop_map(Fault::ExtraId),
        odd_name().prop_map(Fault::BadFieldName),
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            any_text(12).prop_map(Value::from),
            vec(json_value(), 0..2).prop_map(Value::Array),
        ]
        .prop_map(Fault::NonObject),
    ]
}

/// A record with arbitrary relation fields (`extras`), its key inserted at `key_pos` among them.
#[derive(Debug, Clone)]
pub struct RecordPlan {
    pub key_pos: usize,
    pub extras: Vec<(String, Value)>,
}

pub fn record_plan() -> impl Strategy<Value = RecordPlan> {
    let extra_name = prop_oneof![
        6 => select(vec!["Contact_Role", "Member_Status", "Note", "_x", "Flag", "Count", "Stage", "Z9"])
            .prop_map(str::to_owned),
        1 => "[A-Z][a-z]{1,8}_[A-Za-z0-9]{1,8}",
    ];
    (any::<usize>(), vec((extra_name, json_value()), 0..4)).prop_map(|(key_pos, extras)| RecordPlan { key_pos, extras })
}

/// The shape of a record list: a few records with arbitrary fields, then `filler` cheap ones (generating 100
/// arbitrary records per case would make a 1,000-case run slow in debug builds), then faults applied to records
/// `index % len`.
#[derive(Debug, Clone)]
pub struct RecordsPlan {
    pub rich: Vec<RecordPlan>,
    pub filler: usize,
    pub faults: Vec<(usize, Fault)>,
}

impl RecordsPlan {
    pub fn count(&self) -> usize {
        self.rich.len() + self.filler
    }
}

pub fn records_plan() -> impl Strategy<Value = RecordsPlan> {
    let filler = prop_oneof![6 => Just(0usize), 3 => 0..=95usize, 1 => 90..=101usize];
    let faults = prop_oneof![5 => vec((any::<usize>(), fault()), 0..=0), 5 => vec((any::<usize>(), fault()), 1..=3)];
    (vec(record_plan(), 0..=5), filler, faults).prop_map(|(rich, filler, faults)| RecordsPlan { rich, filler, faults })
}

/// The fields of filler record `i` (deterministic, a few shapes).
fn filler_plan(i: usize) -> RecordPlan {
    let extras = match i % 4 {
        0 => vec![],
        1 => vec![("Contact_Role".to_owned(), Value::from(format!("1111110000000{i}")))],
        2 => vec![("Note".to_owned(), Value::from(i)), ("Flag".to_owned(), Value::from(i.is_multiple_of(3)))],
        _ => vec![("Nested".to_owned(), serde_json::json!({"b": i, "a": [i, "x"]})), ("_z".to_owned(), Value::Null)],
    };
    RecordPlan { key_pos: i / 4, extras }
}

/// The records of `plan`, keyed by `key`. Record `i`'s key is `{salt}0{i:03}` (an id) or `{prefix}{i}` (an external
/// value) unless a fault changes it.
pub fn materialize(plan: &RecordsPlan, key: &str, salt: &str, prefix: &str) -> Vec<Value> {
    let n = plan.count();
    let mut keys: Vec<Option<Value>> = Vec::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let record = if i < plan.rich.len() { plan.rich[i].clone() } else { filler_plan(i) };
        let mut key_value =
            Some(Value::String(if key == "id" { format!("{salt}0{i:03}") } else { format!("{prefix}{i}") }));
        let mut extras = record.extras;
        let mut non_object = None;
        for (_, fault) in plan.faults.iter().filter(|(at, _)| at % n == i) {
            match fault {
                Fault::NonObject(v) => non_object = Some(v.clone()),
                Fault::MissingKey => key_value = None,
                Fault::EmptyKey => key_value = Some(Value::from("")),
                Fault::NumberKey(n) => key_value = Some(Value::from(*n)),
                Fault::NullKey => key_value = Some(Value::Null),
                Fault::BoolKey => key_value = Some(Value::Bool(true)),
                Fault::OtherStringKey(s) => key_value = Some(Value::from(s.as_str())),
                Fault::DupOf(j) => {
                    if i > 0
                        && let Some(v) = keys[j % i].clone()
                    {
                        key_value = Some(v);
                    }
                }
                Fault::ExtraId(id) => extras.push(("id".to_owned(), Value::from(id.as_str()))),
                Fault::BadFieldName(n) => extras.insert(0, (n.clone(), Value::from("x"))),
            }
        }
        if let Some(v) = non_object {
            keys.push(None);
            out.push(v);
            continue;
        }
        let pos = record.key_pos % (extras.len() + 1);
        let mut map = Map::new();
        for (k, (name, v)) in extras.into_iter().enumerate() {
            if k == pos
                && let Some(kv) = &key_value
            {
                map.insert(key.to_owned(), kv.clone());
            }
            map.insert(name, v);
        }
        if let Some(kv) = &key_value
            && !map.contains_key(key)
        {
            map.insert(key.to_owned(), kv.clone());
        }
        keys.push(map.get(key).cloned());
        out.push(Value::Object(map));
    }
    out
}

/// One generated request, before validation.
#[derive(Debug, Clone)]
pub struct Input {
    pub base: &'static str,
    pub version: ApiVersion,
    pub module: String,
    pub parent: ParentIn,
    pub related_list: String,
    pub related_module: Option<String>,
    /// `None`: records keyed by `id`.
    pub related_field: Option<String>,
    pub records: Vec<Value>,
}

impl Input {
    /// The related module in effect.
    pub fn effective_related_module(&self) -> &str {
        self.related_module.as_deref().unwrap_or(&self.related_list)
    }

    /// The field keying the records.
    pub fn key(&self) -> &str {
        self.related_field.as_deref().unwrap_or("id")
    }
}

pub fn input() -> impl Strategy<Value = Input> {
    let related_module = prop_oneof![6 => Just(None), 3 => valid_name().prop_map(Some), 1 => odd_name().prop_map(Some)];
    let related_field = prop_oneof![
        4 => Just(None),
        4 => valid_name().prop_map(Some),
        1 => field_name().prop_map(Some),
    ];
    (
        select(BASES),
        select(ApiVersion::ALL.to_vec()),
        name(),
        parent(),
        name(),
        related_module,
        related_field,
        records_plan(),
        "[1-9][0-9]{0,12}",
        any_text(8),
    )
        .prop_map(
            |(base, version, module, parent, related_list, related_module, related_field, plan, salt, prefix)| {
                let key = related_field.clone().unwrap_or_else(|| "id".to_owned());
                let records = materialize(&plan, &key, &salt, &prefix);
                Input { base, version, module, parent, related_list, related_module, related_field, records }
            },
        )
}

/// Builds `input` with the typed builder.
pub fn build(input: &Input) -> Result<UpdateRelated, InvalidInput> {
    let parent = match &input.parent {
        ParentIn::Id(id) => Parent::id(id.as_str())?,
        ParentIn::External { field, value } => Parent::external(field.as_str(), value.as_str())?,
    };
    let mut builder = UpdateRelated::builder(input.module.as_str(), parent, input.related_list.as_str());
    if let Some(m) = &input.related_module {
        builder = builder.related_module(m.as_str());
    }
    if let Some(f) = &input.related_field {
        builder = builder.related_by_external(f.as_str());
    }
    builder.records(input.records.clone()).build()
}
