//! `zcrm sync` end to end: the plan printed and saved without changing anything, applied with `--apply` or
//! later with `--apply-plan` (with its report), the `--max-unlinks` guard, a parent changed in between.

mod support;

use std::path::Path;

use support::*;

const MAPPING: [&str; 10] = [
    "--parent",
    "Contacts.External_Contact_ID",
    "--related",
    "Deals.External_Deal_ID",
    "--parent-column",
    "contact",
    "--related-column",
    "deal",
    "--field",
    "Contact_Role=role",
];

fn args<'a>(csv: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["sync", "--csv", csv];
    a.extend(MAPPING);
    a.extend(extra);
    a
}

fn writes(emu: &zcrm_emulator::Emulator) -> usize {
    emu.journal().iter().filter(|e| e.method == "PUT" || e.method == "DELETE").count()
}

/// c0: d0 (r1), d1 (r1), d2 (r1); c1: d3 (r1); c2: d4 (r1).
fn org(name: &str) -> zcrm_emulator::Emulator {
    let emu = emulator(3, 10);
    let dir = Dir::new(&format!("{name}-seed"));
    let csv = dir.file("start.csv", b"contact,deal,role\nc0,d0,r1\nc0,d1,r1\nc0,d2,r1\nc1,d3,r1\nc2,d4,r1\n");
    let mut link = vec!["link", "--csv", csv.to_str().unwrap(), "--report"];
    let rep = dir.path("r.csv");
    link.push(&rep);
    link.extend(MAPPING);
    assert_eq!(zcrm(Some(&emu), &link).status.code(), Some(0));
    emu.clear_journal();
    emu
}

const DESIRED: &[u8] = b"contact,deal,role\nc1,d6,\nc0,d5,r1\nc0,d1,r2\nc0,d0,r1\n";

#[test]
fn plan_then_apply_plan_then_nothing_left() {
    let emu = org("sync-plan");
    let dir = Dir::new("sync-plan");
    let csv = dir.file("desired.csv", DESIRED);
    let plan_path = dir.path("plan.json");
    let out = zcrm(Some(&emu), &args(csv.to_str().unwrap(), &["--unlink-missing", "--plan-out", &plan_path]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for line in [
        "Plan: Contacts.External_Contact_ID -> Deals.External_Deal_ID (Contact_Role); unlink missing: yes",
        "  parents: 2 in the input, 2 read in 2 calls, 2 with changes",
        "  + 2 to link",
        "  ~ 1 to update",
        "  - 2 to unlink",
        "  = 1 unchanged",
        "~ c0  d1  Contact_Role: \"r1\" -> \"r2\"",
        "+ c0  d5  Contact_Role=\"r1\"",
        "- c0  d2",
        "+ c1  d6",
        "- c1  d3",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in:\n{stdout}");
    }
    assert_eq!(writes(&emu), 0, "planning changes nothing");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(saved["version"], 1);

    let rep = dir.path("applied.csv");
    let out = zcrm(Some(&emu), &["sync", "--apply-plan", &plan_path, "--report", &rep, "--no-diff"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("applied 5 of 5 changes") && stdout.contains("2 reads to recheck"), "{stdout}");
    let lines = report_by_row(Path::new(&rep));
    let rows: Vec<(&str, &str, &str, &str)> =
        lines.iter().map(|l| (l[0].as_str(), l[1].as_str(), l[2].as_str(), l[3].as_str())).collect();
    assert_eq!(
        rows,
        [
            ("1", "c0", "d5", "ok"),
            ("2", "c0", "d1", "ok"),
            ("3", "c0", "d2", "ok"),
            ("4", "c1", "d6", "ok"),
            ("5", "c1", "d3", "ok")
        ]
    );
    assert_eq!(deals_of(&emu, "c0"), ["d0", "d1", "d5"]);
    assert_eq!(deals_of(&emu, "c1"), ["d6"]);
    assert_eq!(deals_of(&emu, "c2"), ["d4"], "a parent absent from the CSV is untouched");

    emu.clear_journal();
    let out = zcrm(Some(&emu), &args(csv.to_str().unwrap(), &["--unlink-missing", "--apply"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("  + 0 to link") && stdout.contains("  = 4 unchanged"), "{stdout}");
    assert_eq!(writes(&emu), 0);
}

#[test]
fn apply_right_away_and_the_unlink_guard() {
    let emu = org("sync-apply");
    let dir = Dir::new("sync-apply");
    let csv = dir.file("desired.csv", DESIRED);
    let rep = dir.path("report.csv");
    let out = zcrm(Some(&emu), &args(csv.to_str().unwrap(), &["--unlink-missing", "--max-unlinks", "1", "--apply"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("the plan will NOT be applied"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("not applied") && text(&out.stderr).contains("max_unlinks 1 allows 1"));
    assert_eq!(writes(&emu), 0);

    let out = zcrm(
        Some(&emu),
        &args(csv.to_str().unwrap(), &["--unlink-missing", "--max-unlinks", "50%", "--apply", "--report", &rep]),
    );
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("0 reads to recheck"), "no re-read right after planning");
    assert_eq!(report_by_row(Path::new(&rep)).len(), 5);
    assert_eq!(deals_of(&emu, "c0"), ["d0", "d1", "d5"]);
}

#[test]
fn a_parent_changed_between_plan_and_apply_plan_is_refused() {
    let emu = org("sync-changed");
    let dir = Dir::new("sync-changed");
    let csv = dir.file("desired.csv", DESIRED);
    let plan_path = dir.path("plan.json");
    let out =
        zcrm(Some(&emu), &args(csv.to_str().unwrap(), &["--unlink-missing", "--plan-out", &plan_path, "--no-diff"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Someone links d9 to c1 meanwhile.
    let other = dir.file("other.csv", b"contact,deal,role\nc1,d9,x\n");
    let mut link = vec!["link", "--csv", other.to_str().unwrap(), "--report"];
    let r = dir.path("r.csv");
    link.push(&r);
    link.extend(MAPPING);
    assert_eq!(zcrm(Some(&emu), &link).status.code(), Some(0));
    let rep = dir.path("applied.csv");
    let out = zcrm(Some(&emu), &["sync", "--apply-plan", &plan_path, "--report", &rep]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("refused: 1 parents changed since planning (2 changes not sent)"),
        "{}",
        text(&out.stdout)
    );
    let codes: Vec<(String, String)> =
        report_by_row(Path::new(&rep)).into_iter().map(|l| (l[1].clone(), l[4].clone())).collect();
    assert_eq!(codes.iter().filter(|(p, c)| p == "c1" && c == "CHANGED_SINCE_PLANNING").count(), 2);
    assert_eq!(deals_of(&emu, "c1"), ["d3", "d9"]);
    assert_eq!(deals_of(&emu, "c0"), ["d0", "d1", "d5"]);
    // A file that is not a plan of this version is refused before anything is sent.
    let bad = dir.file("bad.json", b"{\"format\": \"zcrm-extid.plan\", \"version\": 7}");
    let out = zcrm(Some(&emu), &["sync", "--apply-plan", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("plan.version"), "{}", text(&out.stderr));
}
