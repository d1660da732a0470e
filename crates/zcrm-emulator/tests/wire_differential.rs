//! The emulator's own wire readers ([`zcrm_emulator::wire`]) against the client's writers and parser, on
//! generated input: where the two were written independently from the spec, they must agree.

use proptest::prelude::*;
use zcrm_emulator::wire::{decode_segment, parse_x_external};
use zcrm_extid::XExternal;
use zcrm_extid::url::encode_segment;

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,8}"
}

/// A pair as text: simple, lookup path, or multi-module lookup.
fn pair() -> impl Strategy<Value = String> {
    (name(), prop::collection::vec(name(), 0..3), prop::option::of(name()), name()).prop_map(|(m, path, target, f)| {
        let mut s = m;
        for p in &path {
            s.push('.');
            s.push_str(p);
        }
        match target {
            Some(t) if !path.is_empty() => s.push_str(&format!("->{t}.{f}")),
            _ => s.push_str(&format!(".{f}")),
        }
        s
    })
}

/// Header text: pairs joined by commas with optional blanks, sometimes with noise that makes it malformed.
fn header() -> impl Strategy<Value = String> {
    (prop::collection::vec((pair(), "[ \t]{0,2}"), 1..4), prop::option::of("[,.> \\-a-z\r\n]{1,3}")).prop_map(
        |(pairs, noise)| {
            let mut s = pairs.iter().map(|(p, blank)| format!("{blank}{p}")).collect::<Vec<_>>().join(",");
            if let Some(n) = noise {
                s.push_str(&n);
            }
            s
        },
    )
}

proptest! {
    /// Both accept exactly the same headers, and read the same pairs from them.
    #[test]
    fn header_parsers_agree(text in header()) {
        let core = XExternal::parse(&text);
        let emu = parse_x_external(&text);
        prop_assert_eq!(core.is_ok(), emu.is_ok(), "{:?}: core {:?} emulator {:?}", text, core, emu);
        if let (Ok(core), Ok(emu)) = (core, emu) {
            prop_assert_eq!(core.pairs().len(), emu.len());
            for (c, e) in core.pairs().iter().zip(&emu) {
                prop_assert_eq!(c.to_string(), e.to_string());
                prop_assert_eq!(c.module.as_str(), e.module.as_str());
                prop_assert_eq!(c.field.as_str(), e.field.as_str());
                prop_assert_eq!(c.lookups.iter().map(|l| l.as_str()).collect::<Vec<_>>(), e.path.iter().map(String::as_str).collect::<Vec<_>>());
                prop_assert_eq!(c.target.as_ref().map(|t| t.as_str()), e.target.as_deref());
            }
        }
    }

    /// Whatever value the client encodes into a segment, the emulator decodes it back to the same one value,
    /// and the encoded form never contains a `/`, `?` or `#` that would change the route.
    #[test]
    fn a_value_is_one_segment_both_ways(value in "\\PC{1,12}") {
        let encoded = encode_segment(&value);
        prop_assert!(!encoded.contains(['/', '?', '#']));
        prop_assert_eq!(decode_segment(&encoded), Some(value));
    }
}
