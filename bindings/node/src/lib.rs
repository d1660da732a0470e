//! napi-rs binding of zcrm-extid: converts types, runs blocking core calls on libuv workers, maps errors.

use napi_derive::napi;

/// The version of the native addon.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
