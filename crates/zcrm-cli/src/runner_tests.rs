//! The runner with a command whose "engine" delivers outcomes in a scrambled order (as the engine will, in
//! completion order), and crashes simulated by cutting the report at every byte.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use zcrm_extid::bulk::{BulkSummary, Cancel, Progress, RowOutcome};
use zcrm_extid::{Client, Error, ErrorCode, Failure, InvalidInput, Outcome, Success};

use super::{BulkCommand, Job, JobResult, execute};
use crate::interrupt::Interrupt;

/// A command that reads every row, then completes them in the order `order` gives, `INVALID_DATA` for deal `bad`.
struct Scrambled {
    /// `(index, parent, related)` of every row it was handed, in the order handed.
    sent: RefCell<Vec<(usize, String, String)>>,
    /// Completion order of `n` rows: a permutation of `0..n`.
    order: fn(usize) -> Vec<usize>,
}

fn reversed(n: usize) -> Vec<usize> {
    (0..n).rev().collect()
}

/// Every third row, then the rest: `0, 3, 6, ..., 1, 4, ..., 2, 5, ...`.
fn strided(n: usize) -> Vec<usize> {
    (0..3).flat_map(|k| (k..n).step_by(3)).collect()
}

impl Scrambled {
    fn new(order: fn(usize) -> Vec<usize>) -> Scrambled {
        Scrambled { sent: RefCell::new(Vec::new()), order }
    }
}

impl BulkCommand for Scrambled {
    type Row = (String, String);

    fn verb(&self) -> &'static str {
        "linked"
    }

    fn identity_columns(&self) -> [&str; 2] {
        ["contact", "deal"]
    }

    fn check_header(&self, header: &[String]) -> Result<(), InvalidInput> {
        match ["contact", "deal"].iter().find(|c| !header.iter().any(|h| h == *c)) {
            Some(c) => Err(InvalidInput::new("columns", format!("missing column {c:?}"))),
            None => Ok(()),
        }
    }

    fn map_row(&self, index: usize, header: &[String], rec: &csv::StringRecord) -> Result<Self::Row, InvalidInput> {
        let cell = |c: &str| header.iter().position(|h| h == c).and_then(|i| rec.get(i)).unwrap_or("").to_owned();
        let (contact, deal) = (cell("contact"), cell("deal"));
        if deal.is_empty() {
            return Err(InvalidInput::new("row", "column \"deal\" is empty").at(index).field("deal"));
        }
        Ok((contact, deal))
    }

    fn run(
        &self,
        _client: &Client,
        rows: &mut dyn Iterator<Item = Result<Self::Row, InvalidInput>>,
        _expected_rows: Option<u64>,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        _cancel: &Cancel,
    ) -> Result<BulkSummary, Error> {
        let rows: Vec<Result<Self::Row, InvalidInput>> = rows.collect();
        let mut summary = BulkSummary { rows: rows.len() as u64, ..BulkSummary::default() };
        for i in (self.order)(rows.len()) {
            let result = match &rows[i] {
                Ok((contact, deal)) => {
                    self.sent.borrow_mut().push((i, contact.clone(), deal.clone()));
                    if deal == "bad" {
                        Err(failure(ErrorCode::InvalidData, "the related id given seems to be invalid"))
                    } else {
                        let mut details = Map::new();
                        details.insert("id".into(), Value::String(format!("id-{deal}")));
                        Ok(Success::new("SUCCESS", "relation added", details))
                    }
                }
                Err(e) => Err(failure(ErrorCode::InvalidInput, &e.to_string())),
            };
            if result.is_ok() {
                summary.succeeded += 1;
            } else {
                summary.failed += 1;
            }
            let (parent, key) = rows[i].as_ref().map_or((String::new(), None), |(c, d)| (c.clone(), Some(d.clone())));
            on_outcome(RowOutcome {
                row: i,
                parent: parent.into(),
                key,
                outcome: Outcome { index: i, result },
                attempts: 1,
            });
            on_progress(&Progress::default());
        }
        Ok(summary)
    }
}

fn failure(code: ErrorCode, message: &str) -> Failure {
    Failure { code, message: message.into(), details: Map::new(), status: None }
}

fn client() -> Client {
    // Never called: the scrambled command does not send anything.
    Client::builder().access_token("unused").base_url("http://127.0.0.1:9").build().unwrap()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-runner-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn csv_of(dir: &Path, deals: &[&str]) -> PathBuf {
    let mut text = String::from("contact,deal,note\n");
    for (i, d) in deals.iter().enumerate() {
        text.push_str(&format!("c{},{d},\"note, {i}\"\n", i % 3));
    }
    let path = dir.join("pairs.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn lines(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), crate::report::HEADER);
    r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect()
}

fn run(command: &Scrambled, csv: &Path, resume: Option<&Path>) -> Result<JobResult, super::JobError> {
    let job = Job { csv: csv.to_owned(), report: None, resume: resume.map(Path::to_owned), partition: false };
    execute(&client(), command, &job, &Interrupt::new())
}

#[test]
fn outcomes_in_any_order_are_written_as_they_come_with_their_row_and_cells() {
    let dir = Dir::new("order");
    let deals = ["d0", "d1", "bad", "d3", "", "d5", "d6", "d7"];
    let csv = csv_of(&dir.0, &deals);
    for order in [reversed as fn(usize) -> Vec<usize>, strided] {
        let command = Scrambled::new(order);
        let result = run(&command, &csv, None).unwrap();
        assert_eq!(result.report, PathBuf::from(format!("{}.report.csv", csv.display())));
        assert_eq!((result.summary.succeeded, result.summary.failed), (6, 2));
        assert_eq!(
            result.failures.into_iter().collect::<Vec<_>>(),
            [("INVALID_DATA".into(), 1), ("INVALID_INPUT".into(), 1)]
        );
        let report = lines(&result.report);
        // Completion order, each line naming its 1-based CSV row and that row's cells.
        let rows: Vec<usize> = report.iter().map(|l| l[0].parse().unwrap()).collect();
        assert_eq!(rows, order(deals.len()).iter().map(|i| i + 1).collect::<Vec<_>>());
        for l in &report {
            let i: usize = l[0].parse::<usize>().unwrap() - 1;
            assert_eq!((l[1].as_str(), l[2].as_str()), (format!("c{}", i % 3).as_str(), deals[i]));
            let expected = match deals[i] {
                "bad" => ("error", "INVALID_DATA", String::new()),
                "" => ("error", "INVALID_INPUT", String::new()),
                d => ("ok", "SUCCESS", format!("id-{d}")),
            };
            assert_eq!((l[3].as_str(), l[4].as_str(), l[6].clone()), expected, "line {l:?}");
        }
        assert!(report.iter().any(|l| l[4] == "INVALID_INPUT" && l[5].contains("row[4].deal")), "{report:?}");
    }
}

#[test]
fn a_report_cut_at_any_byte_resumes_in_place_to_a_complete_report() {
    let dir = Dir::new("cut");
    let deals = ["d0", "d1", "d2", "d3", "d4", "d5", "d6"];
    let csv = csv_of(&dir.0, &deals);
    let full = run(&Scrambled::new(strided), &csv, None).unwrap().report;
    let bytes = std::fs::read(&full).unwrap();
    let header_len = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    for cut in header_len..=bytes.len() {
        // The report as a crash at byte `cut` leaves it: complete lines, then perhaps part of one.
        std::fs::write(&full, &bytes[..cut]).unwrap();
        let complete = &bytes[..bytes[..cut].iter().rposition(|&b| b == b'\n').unwrap() + 1];
        let done: Vec<usize> = lines_of(complete).iter().map(|l| l[0].parse().unwrap()).collect();
        // Resume with the default report path: the file being read is the one replaced.
        let command = Scrambled::new(reversed);
        let result = run(&command, &csv, Some(&full)).unwrap_or_else(|e| panic!("cut at {cut}: {}", e.message));
        assert_eq!(result.report, full);
        assert_eq!(result.skipped, done.len() as u64, "cut at {cut}");
        let sent: Vec<String> = command.sent.borrow().iter().map(|s| s.2.clone()).collect();
        let mut expected: Vec<String> =
            (1..=deals.len()).filter(|r| !done.contains(r)).map(|r| deals[r - 1].to_owned()).collect();
        expected.reverse();
        assert_eq!(sent, expected, "cut at {cut}: only the rows without an ok line are sent again");
        let after = lines(&full);
        assert_eq!(after[..done.len()], lines_of(complete)[..], "cut at {cut}: ok lines carried as they were");
        let mut rows: Vec<usize> = after.iter().map(|l| l[0].parse().unwrap()).collect();
        rows.sort_unstable();
        assert_eq!(rows, (1..=deals.len()).collect::<Vec<_>>(), "cut at {cut}: every row exactly once");
        assert!(after.iter().all(|l| l[3] == "ok"));
        // Put the full report back for the next cut.
        std::fs::write(&full, &bytes).unwrap();
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir.0).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
}

fn lines_of(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(bytes);
    r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect()
}

#[test]
fn an_edited_input_is_an_error_naming_the_row_before_anything_is_sent() {
    let dir = Dir::new("edited");
    let csv = csv_of(&dir.0, &["d0", "d1", "d2", "d3"]);
    let report = run(&Scrambled::new(reversed), &csv, None).unwrap().report;
    let before = std::fs::read(&report).unwrap();
    // Row 3's deal changed.
    csv_of(&dir.0, &["d0", "d1", "other", "d3"]);
    let command = Scrambled::new(reversed);
    let e = run(&command, &csv, Some(&report)).err().expect("a mismatch is an error");
    assert_eq!(e.status, crate::exit::INVALID);
    assert!(
        e.message.contains("row 3 of") && e.message.contains("\"d2\"") && e.message.contains("\"other\""),
        "{}",
        e.message
    );
    assert!(command.sent.borrow().is_empty(), "nothing sent");
    assert_eq!(std::fs::read(&report).unwrap(), before, "the report is left as it was");
    // Rows removed from the end: the report's rows 3 and 4 no longer exist.
    csv_of(&dir.0, &["d0", "d1"]);
    let e = run(&command, &csv, Some(&report)).err().expect("missing rows are an error");
    assert!(e.message.contains("marks row 3 ok") && e.message.contains("has 2 rows"), "{}", e.message);
    // Not a report at all.
    let e = run(&command, &csv, Some(&csv)).err().expect("not a report");
    assert!(e.message.contains("is not a zcrm report"), "{}", e.message);
    assert!(command.sent.borrow().is_empty());
}

#[test]
fn an_ok_line_repeated_is_carried_once_and_a_conflicting_one_is_refused() {
    let dir = Dir::new("dupes");
    let csv = csv_of(&dir.0, &["d0", "d1"]);
    let report = dir.0.join("old.csv");
    let header = crate::report::HEADER.join(",");
    std::fs::write(&report, format!("{header}\n1,c0,d0,ok,SUCCESS,x,id-d0,1\n1,c0,d0,ok,SUCCESS,x,id-d0,2\n")).unwrap();
    let command = Scrambled::new(reversed);
    let result = run(&command, &csv, Some(&report)).unwrap();
    let rows: Vec<String> = lines(&result.report).into_iter().map(|l| l[0].clone()).collect();
    assert_eq!(rows, ["1", "2"]);
    std::fs::write(&report, format!("{header}\n1,c0,d0,ok,SUCCESS,x,id-d0,1\n1,c0,dX,ok,SUCCESS,x,id-dX,1\n")).unwrap();
    let e = run(&command, &csv, Some(&report)).err().expect("conflicting lines");
    assert!(e.message.contains("marks row 1 ok twice"), "{}", e.message);
}

#[test]
fn a_report_that_would_replace_the_input_is_refused() {
    let dir = Dir::new("same");
    let csv = csv_of(&dir.0, &["d0", "d1"]);
    let before = std::fs::read(&csv).unwrap();
    let command = Scrambled::new(reversed);
    let job = Job { csv: csv.clone(), report: Some(dir.0.join(".").join("pairs.csv")), resume: None, partition: false };
    let e = execute(&client(), &command, &job, &Interrupt::new()).err().expect("refused");
    assert!(e.message.contains("would replace the input CSV"), "{}", e.message);
    assert_eq!(std::fs::read(&csv).unwrap(), before);
    assert!(command.sent.borrow().is_empty());
}
