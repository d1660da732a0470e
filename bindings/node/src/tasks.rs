//! The blocking core calls as `AsyncTask`s: `compute` runs on a libuv worker (never the JS thread), `resolve`
//! converts on the JS thread. A core error becomes the Promise's rejection with a `ZcrmError` (errors.rs).
//! Arguments are checked before the task is queued; a failed check is carried in the task, so a method that
//! returns a Promise rejects instead of throwing.

use napi::bindgen_prelude::*;
use zcrm_extid::bulk::{BulkSummary, Cancel, RowOutcome};
use zcrm_extid::{Client, UpdateRelated};

use crate::bulk::{AbortHook, BulkReport, Job, ProgressSink, report};
use crate::convert::{self, CoreResult};
use crate::errors;

/// `client.updateRelated(args)`.
pub struct UpdateTask {
    pub work: CoreResult<(Client, UpdateRelated)>,
}

impl Task for UpdateTask {
    type Output = CoreResult<zcrm_extid::UpdateResponse>;
    type JsValue = convert::UpdateResponse;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &self.work {
            Ok((client, request)) => client.update_related(request),
            Err(e) => Err(e.clone()),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<convert::UpdateResponse> {
        output.map(convert::UpdateResponse::from).map_err(|e| errors::to_js(&env, &e))
    }
}

/// Which bulk job over pairs a [`ManyTask`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Many {
    /// `client.linkMany(rows, options)`.
    Link,
    /// `client.unlinkMany(rows, options)`.
    Unlink,
}

/// `client.linkMany(rows, options)` and `client.unlinkMany(rows, options)`.
pub struct ManyTask {
    pub kind: Many,
    pub client: Client,
    pub job: CoreResult<Job>,
    pub cancel: Cancel,
    pub progress: Option<ProgressSink>,
    pub abort: Option<AbortHook>,
}

impl Task for ManyTask {
    type Output = CoreResult<(Vec<RowOutcome>, BulkSummary)>;
    type JsValue = BulkReport;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = match &mut self.job {
            Ok(job) => job,
            Err(e) => return Ok(Err(e.clone())),
        };
        let rows = std::mem::take(&mut job.rows);
        let mut outcomes = Vec::with_capacity(rows.len());
        let progress = &mut self.progress;
        let on_outcome = &mut |o| outcomes.push(o);
        let on_progress = &mut |p: &zcrm_extid::bulk::Progress| {
            if let Some(sink) = progress.as_ref() {
                sink.send(crate::bulk::Progress::from(p));
            }
        };
        let (spec, options, cancel) = (&job.spec, &job.options, &self.cancel);
        let summary = match self.kind {
            Many::Link => self.client.link_many(spec, options, rows, on_outcome, on_progress, cancel),
            Many::Unlink => self.client.unlink_many(spec, options, rows, on_outcome, on_progress, cancel),
        };
        if let Some(sink) = progress.as_mut() {
            sink.flush();
        }
        Ok(summary.map(|s| (outcomes, s)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<BulkReport> {
        if let Some(thrown) = self.progress.as_ref().and_then(ProgressSink::thrown) {
            return Err(thrown);
        }
        let (outcomes, summary) = output.map_err(|e| errors::to_js(&env, &e))?;
        match summary.stopped.clone() {
            None => Ok(report(outcomes, summary)),
            // The circuit breaker stopped the job: reject with its error, the report attached.
            Some(stopped) => Err(errors::to_js_with(&env, &stopped, "report", report(outcomes, summary))),
        }
    }

    fn finally(self, env: Env) -> napi::Result<()> {
        match self.abort {
            Some(hook) => hook.remove(&env),
            None => Ok(()),
        }
    }
}
