//! Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise (logs, CI).
//!
//! The runner counts what it sees itself (rows read, outcomes completed in whatever order they arrive, ok,
//! failed) and takes the rest from the engine's [`Progress`] (rows in flight, concurrency, retries, 429s). So
//! the bar advances as calls complete, not as rows are released in input order, and an interrupted job shows
//! where it stopped rather than jumping to 100%. [`describe`] is the one place that turns those numbers into
//! text: a new engine figure (rows sent, ...) is one edit there.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use zcrm_extid::bulk::Progress;

/// What the runner counts itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Rows this run has to do (the input's rows less the rows skipped by `--resume`), when known.
    pub total: Option<u64>,
    /// Rows read and handed to the engine.
    pub read: u64,
    /// The 1-based input row read last.
    pub last_row: u64,
    /// Rows with an outcome, in any order.
    pub completed: u64,
    /// ... of which succeeded.
    pub ok: u64,
    /// ... of which failed (any reason).
    pub failed: u64,
}

/// The progress text for `c` and the engine's last report `p`, `elapsed` after the start.
pub fn describe(c: &Counts, p: &Progress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { c.completed as f64 / secs } else { 0.0 };
    let of_total = c.total.map_or(String::new(), |t| format!("/{t}"));
    let eta = match c.total {
        Some(t) if rate > 0.0 && t > c.completed => format!(", ETA {}", clock((t - c.completed) as f64 / rate)),
        _ => String::new(),
    };
    format!(
        "{}{of_total} completed ({} ok, {} failed); {} read, {} sent, {} in flight; {rate:.0} rows/s{eta}; \
         concurrency {}, {} retries, {} rate-limited",
        c.completed, c.ok, c.failed, c.read, p.rows_sent, p.in_flight, p.concurrency, p.retries, p.rate_limited
    )
}

/// Where an interrupted job stopped.
pub fn stopped(c: &Counts) -> String {
    format!(
        "stopped after reading input row {}; this run: {} rows ok, {} failed or not sent: rerun with --resume",
        c.last_row, c.ok, c.failed
    )
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 { format!("{}h{:02}m", s / 3600, s % 3600 / 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

/// Shows progress.
pub struct Display {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
    every: Duration,
    counts: Counts,
    engine: Progress,
}

impl Display {
    /// A bar if stderr is a terminal, else periodic lines. `total`: rows to do, if known.
    pub fn new(total: Option<u64>) -> Display {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total.unwrap_or(0));
            let template = if total.is_some() { "{elapsed_precise} [{bar:30}] {percent}% {msg}" } else { "{msg}" };
            bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
            bar
        });
        crate::logs::set_bar(bar.clone());
        let now = Instant::now();
        Display {
            every: if bar.is_some() { Duration::from_millis(100) } else { Duration::from_secs(2) },
            bar,
            started: now,
            last_line: now,
            counts: Counts { total, ..Counts::default() },
            engine: Progress::default(),
        }
    }

    /// Input row `row` was read.
    pub fn read(&mut self, row: u64) {
        self.counts.read += 1;
        self.counts.last_row = row;
    }

    /// A row completed.
    pub fn completed(&mut self, ok: bool) {
        self.counts.completed += 1;
        if ok {
            self.counts.ok += 1;
        } else {
            self.counts.failed += 1;
        }
        self.show();
    }

    /// The engine reported `p`.
    pub fn engine(&mut self, p: &Progress) {
        self.engine = p.clone();
        self.show();
    }

    /// The counts so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    fn show(&mut self) {
        match &self.bar {
            // Position and text move together, so the bar and its numbers agree.
            Some(bar) if self.last_line.elapsed() >= self.every => {
                self.last_line = Instant::now();
                bar.set_position(self.counts.completed);
                bar.set_message(describe(&self.counts, &self.engine, self.started.elapsed()));
            }
            Some(_) => {}
            None if self.last_line.elapsed() >= self.every => {
                self.last_line = Instant::now();
                eprintln!("zcrm: {}", describe(&self.counts, &self.engine, self.started.elapsed()));
            }
            None => {}
        }
    }

    /// Ends the display where the job ended (an interrupted job says where it stopped).
    pub fn finish(&self, interrupted: bool) {
        let mut text = describe(&self.counts, &self.engine, self.started.elapsed());
        if interrupted {
            text = format!("{text}; {}", stopped(&self.counts));
        }
        match &self.bar {
            // `abandon` leaves the bar where it is: `finish` would fill it to 100% whatever was done.
            Some(bar) => {
                bar.set_position(self.counts.completed);
                bar.abandon_with_message(text);
            }
            None => eprintln!("zcrm: {text}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_completed_rows_rate_and_eta() {
        let c = Counts { total: Some(1000), read: 400, last_row: 400, completed: 300, ok: 290, failed: 10 };
        let p = Progress {
            rows_sent: 380,
            in_flight: 100,
            concurrency: 4,
            retries: 2,
            rate_limited: 1,
            ..Progress::default()
        };
        assert_eq!(
            describe(&c, &p, Duration::from_secs(3)),
            "300/1000 completed (290 ok, 10 failed); 400 read, 380 sent, 100 in flight; 100 rows/s, ETA 0m07s; \
             concurrency 4, 2 retries, 1 rate-limited"
        );
        let unknown = Counts { total: None, ..c.clone() };
        assert!(describe(&unknown, &p, Duration::from_secs(3)).starts_with("300 completed"));
        assert!(!describe(&unknown, &p, Duration::from_secs(3)).contains("ETA"));
        assert!(!describe(&c, &p, Duration::ZERO).contains("ETA"), "no rate yet, no ETA");
        assert_eq!(clock(7322.0), "2h02m");
    }

    #[test]
    fn an_interrupted_job_says_where_it_stopped() {
        let c = Counts { total: Some(1000), read: 400, last_row: 412, completed: 400, ok: 300, failed: 100 };
        assert_eq!(
            stopped(&c),
            "stopped after reading input row 412; this run: 300 rows ok, 100 failed or not sent: rerun with --resume"
        );
    }
}
