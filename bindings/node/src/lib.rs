//! napi-rs binding of zcrm-extid: converts types, runs blocking core calls on libuv workers (`AsyncTask`), maps
//! errors. Every URL, header, default, retry and rule lives in the core crate; this crate only moves values
//! across.
//!
//! * [`client`]: `Client`, `PreparedRequest`, `prepareUpdateRelated`, `parseOutcomes`.
//! * [`tasks`]: the `AsyncTask`s of `updateRelated` and `linkMany`.
//! * [`bulk`]: `linkMany`'s rows and options, progress (ThreadsafeFunction) and `AbortSignal`.
//! * [`errors`]: `ZcrmError` and the one core-error conversion.
//! * [`convert`]: JS values <-> core settings, specs and results.
//! * [`related`]: `getRelated`, `iterRelated` (`RelatedIterator`), `deleteRelated`.
//! * [`emulator`]: the in-process emulator for tests.
//! * [`events`]: `onEvent` and the `DEBUG=zcrm-extid` switch; [`metrics`]: a bulk summary's `metrics`.

pub mod bulk;
pub mod client;
pub mod convert;
pub mod emulator;
pub mod errors;
pub mod events;
pub mod metrics;
pub mod related;
pub mod tasks;
