//! `zcrm related update`: one call, mirroring the API page's curl command.

use std::io::Read;
use std::path::PathBuf;

use serde_json::{Value, json};
use zcrm_extid::{Error, UpdateRelated};

use crate::connect::ConnectArgs;
use crate::exit;

/// `zcrm related update Contacts extcontact3 Deals -x "Contacts.External_Contact_ID,Deals.External_Deal_ID" --data sample.json`
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Base module, e.g. Contacts.
    pub module: String,
    /// The parent: a record id, or (when X-EXTERNAL names the base module) its external value.
    pub record: String,
    /// Related list, e.g. Deals.
    pub related_list: String,
    /// The X-EXTERNAL header value, e.g. "Contacts.External_Contact_ID,Deals.External_Deal_ID".
    #[arg(short = 'x', long = "external", value_name = "PAIRS")]
    pub x_external: Option<String>,
    /// Related module, when it differs from the related list's name.
    #[arg(long)]
    pub related_module: Option<String>,
    /// The body: a file with {"data":[...]} or a bare [...]; `-` reads stdin.
    #[arg(short = 'd', long = "data", value_name = "FILE|-")]
    pub data: PathBuf,
    /// Print the request as curl (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn read_records(path: &PathBuf) -> Result<Vec<Value>, String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    match v {
        Value::Array(a) => Ok(a),
        Value::Object(mut o) => match o.remove("data") {
            Some(Value::Array(a)) => Ok(a),
            _ => Err(format!("{}: expected {{\"data\": [...]}} or [...]", path.display())),
        },
        _ => Err(format!("{}: expected {{\"data\": [...]}} or [...]", path.display())),
    }
}

/// Runs the command; returns the exit status.
pub fn run(args: &UpdateArgs, connect: &ConnectArgs) -> i32 {
    let records = match read_records(&args.data) {
        Ok(r) => r,
        Err(e) => return fail(exit::INVALID, &e),
    };
    let request = match UpdateRelated::from_header(
        &args.module,
        &args.record,
        &args.related_list,
        args.related_module.as_deref(),
        args.x_external.as_deref(),
        records,
    ) {
        Ok(r) => r,
        Err(e) => return fail(exit::INVALID, &e.to_string()),
    };
    if args.dry_run {
        return match connect.settings().target() {
            Ok((base, version)) => {
                println!("{}", request.prepare(&base, version).to_curl());
                exit::OK
            }
            Err(e) => fail(exit::INVALID, &e.to_string()),
        };
    }
    let client = match connect.client() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e),
    };
    match client.update_related(&request) {
        Ok(response) => {
            let outcomes: Vec<Value> = response
                .outcomes
                .iter()
                .map(|o| json!({"index": o.index, "ok": o.is_success(), "code": o.code(), "message": o.message(), "details": o.details()}))
                .collect();
            let out = json!({"status": response.status, "outcomes": outcomes, "credits_remaining": response.credits_remaining});
            println!("{}", serde_json::to_string_pretty(&out).expect("json"));
            if response.all_succeeded() { exit::OK } else { exit::SOME_FAILED }
        }
        Err(e) => {
            let status = if matches!(e, Error::InvalidInput(_) | Error::InvalidConfig { .. }) {
                exit::INVALID
            } else {
                exit::REQUEST_FAILED
            };
            let out = json!({"error": {"code": e.code().as_str(), "status": e.status(), "message": e.to_string(), "details": e.details()}});
            println!("{}", serde_json::to_string_pretty(&out).expect("json"));
            status
        }
    }
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(message));
    status
}
