//! Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise (logs, CI).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use zcrm_extid::bulk::Progress;

/// Shows progress.
pub struct Display {
    bar: Option<ProgressBar>,
    last_line: Instant,
    every: Duration,
}

impl Display {
    /// A bar if stderr is a terminal (`total` rows, if known), else periodic lines.
    pub fn new(total: Option<u64>) -> Display {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total.unwrap_or(0));
            let template = if total.is_some() {
                "{elapsed_precise} [{bar:40}] {pos}/{len} rows ({percent}%) {msg}"
            } else {
                "{elapsed_precise} {pos} rows {msg}"
            };
            bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
            bar
        });
        Display { bar, last_line: Instant::now(), every: Duration::from_secs(2) }
    }

    fn line(p: &Progress) -> String {
        format!(
            "{} done ({} ok, {} failed), {} in flight, {:.0} rows/s, concurrency {}, {} retries, {} rate-limited",
            p.done, p.succeeded, p.failed, p.in_flight, p.rows_per_sec, p.concurrency, p.retries, p.rate_limited
        )
    }

    /// Reports `p`.
    pub fn update(&mut self, p: &Progress) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.done);
                bar.set_message(format!(
                    "{:.0}/s, {} failed, {} in flight, c={}",
                    p.rows_per_sec, p.failed, p.in_flight, p.concurrency
                ));
            }
            None if self.last_line.elapsed() >= self.every => {
                self.last_line = Instant::now();
                eprintln!("zcrm: {}", Self::line(p));
            }
            None => {}
        }
    }

    /// Ends the display with the final numbers.
    pub fn finish(&self, p: &Progress) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(format!("{:.0}/s, {} failed", p.rows_per_sec, p.failed)),
            None => eprintln!("zcrm: {}", Self::line(p)),
        }
    }
}
