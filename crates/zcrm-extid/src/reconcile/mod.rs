//! Reconcile: make Zoho's links of one relation equal a desired set, with a plan shown before anything changes.
//!
//! A nightly ERP-to-CRM job does not want "link these pairs"; it wants "Zoho's contact-deal links (and their
//! roles) to equal our export". The input is the desired rows of one relation (parent, related key, managed
//! relation fields such as `Contact_Role`), as a stream, in any order.
//!
//! 1. **Plan** ([`crate::Client::plan_links`], [`plan`]): for each parent in the input, read its linked records
//!    (the paginated GET; fields: the managed fields and the related external field) and compute `link`
//!    (missing), `update` (a managed field differs), `unlink` (linked, absent from the input; only with
//!    `unlink_missing`, never for a parent absent from the input) and `unchanged` ([`diff`]). Nothing changes in
//!    Zoho. Reads run concurrently within the bulk jobs' concurrency limit; memory is bounded by the partition
//!    pass's run and a window of parents.
//! 2. **Review**: the [`Plan`] is data: totals ([`PlanSummary`]), every change ([`Plan::changes`]), a printable
//!    summary and diff ([`render`]), JSON with a version ([`json`]) to keep and apply later as reviewed.
//! 3. **Apply** ([`crate::Client::apply_plan`], [`apply`]): the changes through the bulk engine (links and
//!    updates by PUT, unlinks by DELETE, one mixed operation), one outcome per change, with progress, retries,
//!    cancellation; refused as a whole if it unlinks more than `max_unlinks` allows, and per parent where the
//!    parent's links changed since planning ([`guard`]).
//!
//! ```
//! use serde_json::json;
//! use zcrm_emulator::{Emulator, EmulatorConfig, Seed};
//! use zcrm_extid::bulk::{BulkRow, Cancel};
//! use zcrm_extid::reconcile::{ApplyOptions, PlanOptions, SyncSpec};
//! use zcrm_extid::{Client, Parent};
//!
//! let mut seed = Seed::default_seed();
//! seed.add_records("Contacts", "External_Contact_ID", "c", 2);
//! seed.add_records("Deals", "External_Deal_ID", "d", 3);
//! let emu = Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() })?;
//! let (id, secret, refresh) = Emulator::default_credentials();
//! let client = Client::builder().refresh_token(id, secret, refresh)
//!     .base_url(emu.base_url()).accounts_url(emu.accounts_url()).build()?;
//! let spec = SyncSpec::parse("Contacts.External_Contact_ID", "Deals.External_Deal_ID", None, &["Contact_Role"])?;
//! let desired = || [("c0", "d0", "buyer"), ("c0", "d1", "seller"), ("c1", "d2", "buyer")].map(|(c, d, r)| {
//!     Ok(BulkRow { parent: Parent::external("External_Contact_ID", c)?,
//!                  record: json!({"External_Deal_ID": d, "Contact_Role": r}) })
//! });
//! let options = PlanOptions { unlink_missing: true, ..PlanOptions::default() };
//! let plan = client.plan_links(&spec, &options, desired(), &mut |_| {}, &Cancel::new())?;
//! assert_eq!((plan.summary().links, plan.summary().unlinks), (3, 0)); // nothing linked yet
//! print!("{}{}", plan.summary_text(), plan.diff_text());
//! let report = client.apply_plan_all(&plan, &ApplyOptions::default())?;
//! assert_eq!(report.summary.bulk.succeeded, 3);
//! let again = client.plan_links(&spec, &options, desired(), &mut |_| {}, &Cancel::new())?;
//! assert!(again.is_empty()); // applied: nothing left to do
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod apply;
pub mod apply_op;
pub mod diff;
pub mod guard;
pub mod json;
mod model;
pub mod plan;
pub mod read;
pub mod render;
pub mod settings;

pub use apply::{ApplyOptions, ApplyReport, ApplySummary};
pub use apply_op::{ApplyCall, ApplyChanges, ApplyInput, ApplyRow};
pub use diff::same_value;
pub use guard::{MaxUnlinks, Recheck, check_max_unlinks};
pub use model::{Change, ChangeKind, InvalidRow, ParentPlan, Plan, PlanSummary, ReadFailure, SyncSpec};
pub use plan::{PlanOptions, PlanOutline, PlanProgress, check_row};
