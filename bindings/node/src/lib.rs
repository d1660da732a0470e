//! napi-rs binding of zcrm-extid: converts types, runs blocking core calls on libuv workers (`AsyncTask`), maps
//! errors. Every URL, header, default, retry and rule lives in the core crate; this crate only moves values
//! across.
//!
//! * [`client`]: `Client`, `PreparedRequest`, `prepareUpdateRelated`, `parseOutcomes`.
//! * [`tasks`]: the `AsyncTask`s of `updateRelated` and the bulk jobs (`linkMany`, `upsertMany`).
//! * [`bulk`]: `linkMany`'s rows and options, and every bulk job's options, progress (ThreadsafeFunction),
//!   `AbortSignal` and report.
//! * [`upsert`]: `upsertMany`'s rows and options.
//! * [`errors`]: `ZcrmError` and the one core-error conversion.
//! * [`convert`]: JS values <-> core settings, specs and results.
//! * [`related`]: `getRelated`, `iterRelated` (`RelatedIterator`), `deleteRelated`.
//! * [`records`]: the records calls (get, insert, update, upsert, delete, search) and their results.
//! * [`emulator`]: the in-process emulator for tests.

pub mod bulk;
pub mod client;
pub mod convert;
pub mod emulator;
pub mod errors;
pub mod records;
pub mod related;
pub mod tasks;
pub mod upsert;
