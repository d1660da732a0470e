//! `zcrm records get|delete|search`: one-off records calls by external ID, JSON lines out (one record, or one
//! outcome, per line), so the output pipes into `jq`, a file or another program.
//!
//! ```text
//! zcrm records get Contacts extcontact3 --key External_Contact_ID              # one record
//! zcrm records get Contacts c1 c2 c3 --key External_Contact_ID --fields Last_Name,Email
//! zcrm records get Deals --fields Deal_Name,Stage                              # the whole module, every page
//! zcrm records search Contacts c1 c2 --key External_Contact_ID                 # every page of the matches
//! zcrm records delete Contacts c1 c2 --key External_Contact_ID                 # one outcome line per value
//! ```
//!
//! A failed call prints `{"error": {...}}` as its line. Exit status as for `zcrm related update`: 0 success (a
//! read with no match is a success with no lines), 1 some deletes failed, 2 invalid arguments (nothing sent),
//! 3 the call failed as a whole.

use serde_json::{Value, json};
use zcrm_extid::Error;
use zcrm_extid::records::spec::{Ids, RecordsArgs, RecordsCall};
use zcrm_extid::records::{Paged, Pages, RecordsPage};

use crate::connect::ConnectArgs;
use crate::exit;

/// The records subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RecordsCommand {
    /// Read records: GET {Module}/{value}, GET {Module}?ids=..., or the whole module (with --fields).
    Get(GetArgs),
    /// Delete records: DELETE {Module}/{value} or DELETE {Module}?ids=... (at most 100).
    Delete(DeleteArgs),
    /// Search records by an external field: GET {Module}/search?criteria=(Field:equals|in:...).
    Search(SearchArgs),
}

/// `zcrm records get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Module, e.g. Contacts.
    pub module: String,
    /// Values of --key (record ids without it): one reads one record, several use ids=, none reads the module.
    pub values: Vec<String>,
    /// The module's external field the values belong to, e.g. External_Contact_ID.
    #[arg(long)]
    pub key: Option<String>,
    /// Fields to return, comma-separated (required to read a whole module).
    #[arg(long, value_delimiter = ',')]
    pub fields: Option<Vec<String>>,
    /// Records per page (1-200).
    #[arg(long)]
    pub per_page: Option<u32>,
    /// Read only this page (default: every page).
    #[arg(long)]
    pub page: Option<u32>,
    /// Print the request as curl (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `zcrm records delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Module, e.g. Contacts.
    pub module: String,
    /// Values of --key (record ids without it); one uses DELETE {Module}/{value}, several ids=.
    #[arg(required = true)]
    pub values: Vec<String>,
    /// The module's external field the values belong to.
    #[arg(long)]
    pub key: Option<String>,
    /// Print the request as curl (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `zcrm records search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Module, e.g. Contacts.
    pub module: String,
    /// The values searched (one: equals; several: in).
    #[arg(required = true)]
    pub values: Vec<String>,
    /// The external field searched, e.g. External_Contact_ID.
    #[arg(long)]
    pub key: String,
    /// Fields to return, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub fields: Option<Vec<String>>,
    /// Records per page (1-200).
    #[arg(long)]
    pub per_page: Option<u32>,
    /// Read only this page (default: every page).
    #[arg(long)]
    pub page: Option<u32>,
    /// Print the request as curl (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn ids(values: &[String]) -> Option<Ids> {
    match values {
        [] => None,
        [one] => Some(Ids::One(one.clone())),
        many => Some(Ids::Many(many.to_vec())),
    }
}

/// Runs a records subcommand; returns the exit status.
pub fn run(command: &RecordsCommand, connect: &ConnectArgs) -> i32 {
    let (args, dry_run, one_page) = match command {
        RecordsCommand::Get(a) => (
            RecordsArgs {
                operation: "get".into(),
                module: a.module.clone(),
                key: a.key.clone(),
                ids: ids(&a.values),
                fields: a.fields.clone(),
                page: a.page,
                per_page: a.per_page,
                ..RecordsArgs::default()
            },
            a.dry_run,
            a.page.is_some(),
        ),
        RecordsCommand::Delete(a) => (
            RecordsArgs {
                operation: "delete".into(),
                module: a.module.clone(),
                key: a.key.clone(),
                ids: ids(&a.values),
                ..RecordsArgs::default()
            },
            a.dry_run,
            true,
        ),
        RecordsCommand::Search(a) => (
            RecordsArgs {
                operation: "search".into(),
                module: a.module.clone(),
                key: Some(a.key.clone()),
                values: Some(a.values.clone()),
                fields: a.fields.clone(),
                page: a.page,
                per_page: a.per_page,
                ..RecordsArgs::default()
            },
            a.dry_run,
            a.page.is_some(),
        ),
    };
    let call = match args.build() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e.to_string()),
    };
    if dry_run {
        return match connect.settings().target() {
            Ok((base, version)) => {
                println!("{}", call.prepare(&base, version).to_curl());
                exit::OK
            }
            Err(e) => fail(exit::INVALID, &e.to_string()),
        };
    }
    let client = match connect.client() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e),
    };
    match call {
        RecordsCall::Get(c) if one_page => print_page(client.get_records(&c)),
        RecordsCall::Get(c) => print_pages(client.record_pages(&c)),
        RecordsCall::Search(c) if one_page => print_page(client.search_records(&c)),
        RecordsCall::Search(c) => print_pages(client.search_pages(&c)),
        RecordsCall::Delete(c) => match client.delete_records(&c) {
            Ok(r) => {
                for (o, value) in r.outcomes.iter().zip(c.values()) {
                    let line = json!({"index": o.index(), "value": value, "ok": o.is_success(), "code": o.code(),
                                      "message": o.message(), "details": o.details()});
                    println!("{line}");
                }
                if r.all_succeeded() { exit::OK } else { exit::SOME_FAILED }
            }
            Err(e) => error_line(&e),
        },
        RecordsCall::Insert(_) | RecordsCall::Update(_) | RecordsCall::Upsert(_) => {
            fail(exit::INVALID, "zcrm records reads, searches and deletes; writes go through the bulk commands")
        }
    }
}

fn print_page(page: zcrm_extid::Result<RecordsPage>) -> i32 {
    match page {
        Ok(p) => {
            for r in p.records {
                println!("{}", Value::Object(r));
            }
            exit::OK
        }
        Err(e) => error_line(&e),
    }
}

fn print_pages<C: Paged>(pages: Pages<C>) -> i32 {
    for page in pages {
        let status = print_page(page);
        if status != exit::OK {
            return status;
        }
    }
    exit::OK
}

fn error_line(e: &Error) -> i32 {
    let status = if matches!(e, Error::InvalidInput(_) | Error::InvalidConfig { .. }) {
        exit::INVALID
    } else {
        exit::REQUEST_FAILED
    };
    println!(
        "{}",
        json!({"error": {"code": e.code().as_str(), "status": e.status(), "message": e.to_string(), "details": e.details()}})
    );
    status
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {message}");
    status
}
