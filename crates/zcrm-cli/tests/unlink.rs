//! `zcrm unlink` end to end: the CSV of a link job unlinks its pairs, with the report, `--resume`, the partition
//! pass and the dry run of `zcrm link`.

mod support;

use std::path::Path;

use support::*;
use zcrm_emulator::Fault;

const MAPPING: [&str; 8] = [
    "--parent",
    "Contacts.External_Contact_ID",
    "--related",
    "Deals.External_Deal_ID",
    "--parent-column",
    "contact",
    "--related-column",
    "deal",
];

fn job(command: &str, csv: &Path, report: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![command.into(), "--csv".into(), csv.display().to_string()];
    a.extend(MAPPING.iter().map(|s| s.to_string()));
    a.extend(["--report".to_owned(), report.to_owned()]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run(emu: &zcrm_emulator::Emulator, args: &[String]) -> std::process::Output {
    zcrm(Some(emu), &args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn unlink_then_resume_leaves_only_the_pairs_not_in_the_csv() {
    let emu = emulator(3, 400);
    let dir = Dir::new("unlink");
    // 400 pairs in a shuffled order (the partition pass sorts them by contact), with a role column unlink ignores.
    let mut all = String::from("contact,deal,role\n");
    for i in 0..400 {
        let d = (i * 7) % 400;
        all.push_str(&format!("c{},d{d},r\n", d % 3));
    }
    let linked = dir.file("all.csv", all.as_bytes());
    let out = run(&emu, &job("link", &linked, &dir.path("link.csv"), &["--field", "Contact_Role=role"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(emu.relation_count(), 400);

    // Unlink every deal but those ending in 9. The first calls fail for good (no retries): those rows must be
    // resumed; a row for a deal that was never linked fails with Zoho's answer.
    let mut csv = String::from("contact,deal,role\n");
    let mut expected_rows = 0;
    for d in (0..400).filter(|d| d % 10 != 9) {
        csv.push_str(&format!("c{},d{d},x\n", d % 3));
        expected_rows += 1;
    }
    csv.push_str("c0,d1,x\n"); // d1 belongs to c1: not linked to c0
    let csv = dir.file("unlink.csv", csv.as_bytes());
    let rep = dir.path("report.csv");
    emu.push_fault(Fault::status(500).times(2));
    let first = run(&emu, &job("unlink", &csv, &rep, &["--max-retries", "0"]));
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert!(stdout.contains("unlinked ") && stdout.contains("INTERNAL_ERROR"), "{stdout}");
    let lines = report_by_row(Path::new(&rep));
    assert_eq!(lines.len(), expected_rows + 1, "one line per row");
    let failed: Vec<&Vec<String>> = lines.iter().filter(|l| l[3] == "error").collect();
    assert!(failed.iter().filter(|l| l[4] == "INTERNAL_ERROR").count() >= 2, "two calls failed: {failed:?}");
    // The never-linked pair fails with Zoho's answer, unless its call was one of the two the fault hit (the
    // partition pass sorts the file by parent, so which calls come first depends on the parents, not the file).
    let last = &lines[expected_rows];
    assert_eq!((last[1].as_str(), last[2].as_str()), ("c0", "d1"));
    assert!(["INVALID_DATA", "INTERNAL_ERROR"].contains(&last[4].as_str()), "{last:?}");

    // --resume sends only what did not succeed; the report is complete and the state is exactly the rest.
    emu.clear_journal();
    let second = run(&emu, &job("unlink", &csv, &rep, &["--resume", &rep]));
    assert_eq!(second.status.code(), Some(1), "only the never-linked pair fails: {}", text(&second.stdout));
    let resent: usize = emu
        .journal()
        .iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| e.query.strip_prefix("ids=").map_or(1, |ids| ids.split(',').count()))
        .sum();
    assert_eq!(resent, failed.len(), "only the failed rows are sent again");
    let lines = report_by_row(Path::new(&rep));
    assert_eq!(lines.iter().filter(|l| l[3] == "ok").count(), expected_rows);
    for c in 0..3 {
        let expected: Vec<String> = {
            let mut v: Vec<String> = (0..400).filter(|d| d % 10 == 9 && d % 3 == c).map(|d| format!("d{d}")).collect();
            v.sort();
            v
        };
        assert_eq!(deals_of(&emu, &format!("c{c}")), expected, "contact c{c}");
    }
}

#[test]
fn dry_run_shows_ids_lists_and_comma_values_alone() {
    let emu = emulator(1, 1);
    let dir = Dir::new("unlink-dry");
    let csv = dir.file("pairs.csv", b"contact,deal\nc0,a\nc0,\"x,y\"\nc0,b\n");
    let out = run(&emu, &job("unlink", &csv, &dir.path("r.csv"), &["--dry-run"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("-X DELETE"), "{stdout}");
    assert!(stdout.contains("/Contacts/c0/Deals?ids=a,b'"), "{stdout}");
    assert!(stdout.contains("/Contacts/c0/Deals/x%2Cy'"), "{stdout}");
    assert!(stdout.contains("X-EXTERNAL: Contacts.External_Contact_ID,Deals.External_Deal_ID"), "{stdout}");
    assert!(text(&out.stderr).contains("2 calls"), "{}", text(&out.stderr));
    assert!(emu.journal().is_empty(), "nothing sent");
}
