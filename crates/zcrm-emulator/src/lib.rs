//! # zcrm-emulator
//!
//! A stateful local emulator of Zoho CRM's external-ID related-records API, over real HTTP on `127.0.0.1`:
//! test an integration offline, as stripe-mock and moto serve Stripe and AWS users.
//!
//! * **State**: modules with records and org-unique external fields, related lists with relation fields,
//!   symmetric relations ([`state`]); seeded from JSON ([`seed`]; the default holds the API page's example).
//! * **OAuth**: the refresh-token grant with Zoho's errors and throttle ([`oauth`]).
//! * **The API**: `PUT /crm/{v}/{Module}/{x}/{RelatedList}` with the full `X-EXTERNAL` semantics, per-record
//!   results and 200/207/400 ([`related_put`]), every documented error ([`api`]), GET on related records with
//!   `fields`, `ids`, `If-Modified-Since` (304), pages and v7/v8 page tokens ([`related_read`], [`page_token`]),
//!   DELETE (delink) by path value or `ids` ([`related_delete`]), and metadata routes ([`metadata`]).
//! * **Records by external ID** (spec §2.3-§2.7): get, insert with lookups resolved by external value, update,
//!   upsert, delete ([`records`], [`records_write`], [`record_lookups`]) and search ([`search`]), with
//!   `Created_Time`/`Modified_Time`, org-unique external fields (`DUPLICATE_DATA`) and the same limits.
//! * **Limits**: concurrency (edition presets), sub-concurrency, daily credits, `X-API-CREDITS-REMAINING`
//!   ([`server`]).
//! * **Security**: the journal masks secrets ([`journal`]); token replies can name a Zoho-shaped `api_domain`
//!   ([`Runtime::api_domain`]) so a client's choice of host can be tested end to end.
//! * **Faults**: statuses, HTML 502s, malformed JSON, dropped connections, latency ([`faults`]); control under
//!   `/__emulator/` ([`control`]) and the same from Rust ([`Emulator`]).
//!
//! The emulator reads what clients send with its own parsers ([`wire`]), written from the spec, never the client
//! crate's: a bug in the client's encoder cannot hide behind the same bug here. Its HTTP server ([`serve`])
//! bounds every request in time and every client in connections, so a slow or idle flood cannot wedge it.
//!
//! ```
//! use zcrm_emulator::{Emulator, EmulatorConfig, Fault};
//! use zcrm_extid::{Client, Parent, UpdateRelated};
//!
//! let emu = Emulator::start(EmulatorConfig::default())?;
//! let (id, secret, refresh) = Emulator::default_credentials();
//! let client = Client::builder()
//!     .refresh_token(id, secret, refresh)
//!     .base_url(emu.base_url())
//!     .accounts_url(emu.accounts_url())
//!     .build()?;
//! let request = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3")?, "Deals")
//!     .related_by_external("External_Deal_ID")
//!     .record(serde_json::json!({"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}))
//!     .build()?;
//! emu.push_fault(Fault::status(500)); // the first attempt fails; the client retries
//! let response = client.update_related(&request)?;
//! assert_eq!(response.outcomes[0].id(), Some("111111000000094028"));
//! assert_eq!(emu.related("Contacts", "111111000000085009", "Deals").len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod api;
mod args;
pub mod clock;
pub mod config;
pub mod control;
pub mod faults;
pub mod http;
pub mod journal;
pub mod metadata;
pub mod oauth;
pub mod page_token;
pub mod record_lookups;
pub mod records;
pub mod records_write;
pub mod related_delete;
pub mod related_put;
pub mod related_read;
pub mod search;
pub mod seed;
pub mod serve;
pub mod server;
pub mod state;
pub mod wire;

pub use args::EmulatorArgs;
pub use config::{Edition, EmulatorConfig, EmulatorSettings, SUB_CONCURRENCY};
pub use faults::{Action, Fault, Phase, Target};
pub use journal::Entry;
pub use seed::Seed;
pub use server::{Emulator, Runtime, Stats};

/// Blocks until stdin closes or the process gets SIGINT/SIGTERM-like termination (the default handlers end the
/// process); used by the binaries to serve "until stopped".
pub fn wait_for_shutdown() {
    use std::io::Read;
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    // When stdin is a terminal or a pipe, EOF (Ctrl-D, or the parent closing it) stops the server, even if
    // nothing was written first. When stdin is /dev/null, read returns 0 at once: then serve until killed.
    match stdin.read(&mut sink) {
        Ok(0) if !eof_means_stop() => loop {
            std::thread::park();
        },
        Ok(0) => {}
        _ => while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {},
    }
}

/// Whether stdin is a terminal, a pipe or a socket (whose EOF means "stop"), as opposed to `/dev/null`.
fn eof_means_stop() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() || stdin_is_pipe()
}

#[cfg(unix)]
fn stdin_is_pipe() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| std::fs::File::from(fd).metadata().ok())
        .is_some_and(|m| m.file_type().is_fifo() || m.file_type().is_socket())
}

#[cfg(not(unix))]
fn stdin_is_pipe() -> bool {
    false
}
