//! napi-rs binding of zcrm-extid: converts types, runs blocking core calls on the addon's own threads, maps
//! errors. Every URL, header, default, retry and rule lives in the core crate; this crate only moves values
//! across.
//!
//! # How to add a method
//!
//! * **A call** (one request, a Promise): read the arguments into the core's typed request in `prepare`, send
//!   it in `work`, convert the answer in `to_js`, all through [`call::promise`] (see `Client::update_related`
//!   in `client.rs`: ten lines). The helper gives the method the caller's stack on rejection, `{ signal,
//!   timeoutMs }` as its last argument, panics caught, and the addon's threads instead of libuv's pool.
//! * **A bulk job** (rows in, one outcome per row): give [`bulk::run_job`] the operation's row converter and
//!   the core call that runs its job (see `bulk::link_many`). Rows then come from any Iterable or
//!   AsyncIterable with backpressure, and `onProgress`, `onOutcome`, `keepOutcomes`, `signal`, `timeoutMs` and
//!   the report on rejection work as for `linkMany`.
//! * **Argument and option objects** are `#[napi(object, object_to_js = false)]` structs followed by
//!   `known_keys!(Struct { field, ... })`, read with [`convert::args`] / [`convert::options`]: an unknown key
//!   is an `INVALID_INPUT` naming it. Rows and records are typed `JsonRow<R>` / `ReadonlyArray<object>` in the
//!   `.d.ts` so that interfaces and optional fields type-check; no `Buffer` (take `Uint8Array`).
//! * **Errors**: return the core's `Error`; [`errors`] maps it (code, kind, category, retryable, fields) with
//!   no wildcard arm. Never build a `ZcrmError` by hand.
//! * Then: add the names to `tests/conformance/api.json` (both suites check it), rebuild (`npm run build` in
//!   `node/`) and commit the regenerated `index.d.ts` / `index.js`.
//!
//! # Modules
//!
//! * [`client`]: `Client`, `PreparedRequest`, `prepareUpdateRelated`, `parseOutcomes`, `version`.
//! * [`related`]: `getRelated`, `iterRelated` (`RelatedIterator`), `deleteRelated`, `parseRelated`.
//! * [`records`]: the records calls (get, insert, update, upsert, delete, search) and their results.
//! * [`bulk`]: `linkMany`, `unlinkMany` and [`bulk::run_job`]; [`reconcile`]: `planLinks`, `loadPlan`, `Plan`; [`upsert`]: `upsertMany`; [`rows`]: a job's rows from any (async) iterable.
//! * [`call`]: [`call::promise`], `CallOptions`; [`pool`]: the addon's threads.
//! * [`errors`]: `ZcrmError`, `ErrorCode` / `ErrorKind` / `ErrorCategory`, `errorCodes()`.
//! * [`glue`] (+ `glue.js`): the JavaScript half; [`keys`]: unknown-key checks; [`convert`]: JS <-> core.
//! * [`emulator`]: the in-process emulator for tests.
//! * [`events`]: `onEvent` and the `DEBUG=zcrm-extid` switch; [`metrics`]: a bulk summary's `metrics`.

#[macro_use]
pub mod keys;

pub mod bulk;
pub mod call;
pub mod client;
pub mod convert;
pub mod emulator;
pub mod errors;
pub mod events;
pub mod glue;
pub mod metrics;
pub mod pool;
pub mod reconcile;
pub mod records;
pub mod related;
pub mod rows;
pub mod upsert;
