//! `If-Modified-Since`: the emulator's reader ([`zcrm_emulator::wire::parse_datetime`]) against the client's
//! ([`zcrm_extid::datetime::normalize`]), written independently from spec §3.2. They must accept the same text,
//! and what the client sends must mean the same instant as what the user gave.

use proptest::prelude::*;
use zcrm_emulator::wire::parse_datetime;
use zcrm_extid::datetime::normalize;

/// Date-time text: mostly well-formed (with edge values), sometimes with one character replaced.
fn text() -> impl Strategy<Value = String> {
    let well_formed = (
        1900u32..2200,
        0u32..14,
        0u32..33,
        0u32..25,
        0u32..61,
        0u32..61,
        prop::option::of("[0-9]{1,6}"),
        prop_oneof![
            Just("Z".to_owned()),
            Just("z".to_owned()),
            (0u32..16, 0u32..61, any::<bool>())
                .prop_map(|(h, m, plus)| format!("{}{h:02}:{m:02}", if plus { '+' } else { '-' }))
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, zone)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
        });
    prop_oneof![
        8 => well_formed.clone(),
        2 => (well_formed, any::<prop::sample::Index>(), prop::sample::select(vec!['x', ' ', '1', ':', 'T', '+', '-', 'é']))
            .prop_map(|(t, i, c)| {
                let mut chars: Vec<char> = t.chars().collect();
                let at = i.index(chars.len());
                chars[at] = c;
                chars.into_iter().collect()
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn client_and_emulator_read_if_modified_since_alike(t in text()) {
        let client = normalize(&t, "if_modified_since");
        let emulator = parse_datetime(&t);
        prop_assert_eq!(client.is_ok(), emulator.is_some(), "{:?}: client {:?}, emulator {:?}", t, client, emulator);
        if let Ok(sent) = client {
            prop_assert_eq!(parse_datetime(&sent), emulator, "{} -> {}", t, sent);
        }
    }
}
