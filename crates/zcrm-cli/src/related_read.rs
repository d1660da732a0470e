//! `zcrm related get` and `zcrm related delete`: one read (or all pages of it) and one unlink, mirroring the API
//! pages' curl commands (the path value and `-x` decide together what each value is, as for `related update`).

use serde_json::{Map, Value, json};
use zcrm_extid::related_specs::{DeleteRelatedSpec, GetRelatedSpec, header_fields};
use zcrm_extid::settings::ParentRef;
use zcrm_extid::{Client, Error, GetRelated, RelatedResponse, RelatedRow};

use crate::connect::ConnectArgs;
use crate::exit;

/// `zcrm related get Contacts extcontact3 Deals -x Contacts.External_Contact_ID --fields Deal_Name,Stage --all`
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Base module, e.g. Contacts.
    pub module: String,
    /// The parent: a record id, or (when X-EXTERNAL names the base module) its external value.
    pub record: String,
    /// Related list, e.g. Deals.
    pub related_list: String,
    /// One related record (the single form): a record id, or (when X-EXTERNAL names the related module) its
    /// external value.
    pub related: Option<String>,
    /// The X-EXTERNAL header value, e.g. "Contacts.External_Contact_ID" or "Deals.External_Deal_ID,Contacts.External_Contact_ID".
    #[arg(short = 'x', long = "external", value_name = "PAIRS")]
    pub x_external: Option<String>,
    /// Related module, when it differs from the related list's name.
    #[arg(long)]
    pub related_module: Option<String>,
    /// Fields to return, comma-separated (required for a list from v5 on).
    #[arg(long, value_name = "A,B")]
    pub fields: Option<String>,
    /// Only these related records, comma-separated (record ids, or external values with a related pair in -x).
    #[arg(long, value_delimiter = ',', value_name = "V1,V2")]
    pub ids: Option<Vec<String>>,
    /// Page number (1-based).
    #[arg(long)]
    pub page: Option<u32>,
    /// Records per page, 1 to 200.
    #[arg(long)]
    pub per_page: Option<u32>,
    /// A page token (v7+), from a page's next_page_token.
    #[arg(long)]
    pub page_token: Option<String>,
    /// Only records modified after this ISO 8601 date-time, e.g. 2019-07-25T15:26:49+05:30 (a 304 prints nothing).
    #[arg(long, value_name = "DATETIME")]
    pub if_modified_since: Option<String>,
    /// Read every page (page tokens on v7/v8, page numbers before), not just one.
    #[arg(long)]
    pub all: bool,
    /// Print the request as curl (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `zcrm related delete Contacts extcontact3 Deals extdeal3 -x Contacts.External_Contact_ID,Deals.External_Deal_ID`
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Base module, e.g. Contacts.
    pub module: String,
    /// The parent: a record id, or (when X-EXTERNAL names the base module) its external value.
    pub record: String,
    /// Related list, e.g. Deals.
    pub related_list: String,
    /// The related record to unlink (a record id, or an external value with a related pair in -x).
    pub related: Option<String>,
    /// The X-EXTERNAL header value, e.g. "Contacts.External_Contact_ID,Deals.External_Deal_ID".
    #[arg(short = 'x', long = "external", value_name = "PAIRS")]
    pub x_external: Option<String>,
    /// Related module, when it differs from the related list's name.
    #[arg(long)]
    pub related_module: Option<String>,
    /// Several related records (up to 100), comma-separated: the `ids` form.
    #[arg(long, value_delimiter = ',', value_name = "V1,V2", conflicts_with = "related")]
    pub ids: Option<Vec<String>>,
    /// Print the request as curl (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {message}");
    status
}

fn parent(record: &str, base_field: Option<String>) -> ParentRef {
    match base_field {
        Some(field) => ParentRef::External { field, value: record.to_owned() },
        None => ParentRef::Id(record.to_owned()),
    }
}

fn request_failed(e: &Error) -> i32 {
    let status = if matches!(e, Error::InvalidInput(_) | Error::InvalidConfig { .. }) {
        exit::INVALID
    } else {
        exit::REQUEST_FAILED
    };
    let out = json!({"error": {"code": e.code().as_str(), "status": e.status(), "message": e.to_string(), "details": e.details()}});
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    status
}

/// A row as one JSON line: `id` first, then the fields as Zoho sent them.
fn print_row(row: RelatedRow) {
    let mut out = Map::with_capacity(row.fields.len() + 1);
    out.insert("id".into(), Value::String(row.id));
    out.extend(row.fields);
    println!("{}", Value::Object(out));
}

fn build_get(args: &GetArgs) -> Result<GetRelated, String> {
    let (base, related_field) =
        header_fields(&args.module, &args.related_list, args.related_module.as_deref(), args.x_external.as_deref())
            .map_err(|e| e.to_string())?;
    GetRelatedSpec {
        module: args.module.clone(),
        parent: parent(&args.record, base),
        related_list: args.related_list.clone(),
        related_module: args.related_module.clone(),
        related_field,
        related: args.related.clone(),
        ids: args.ids.clone(),
        fields: args.fields.iter().cloned().collect(),
        page: args.page,
        per_page: args.per_page,
        page_token: args.page_token.clone(),
        if_modified_since: args.if_modified_since.clone(),
    }
    .build()
    .map_err(|e| e.to_string())
}

/// Runs `related get`; returns the exit status.
pub fn get(args: &GetArgs, connect: &ConnectArgs) -> i32 {
    let request = match build_get(args) {
        Ok(r) => r,
        Err(e) => return fail(exit::INVALID, &e),
    };
    if args.dry_run {
        let prepared = connect.settings().target().map_err(|e| e.to_string()).and_then(|(base, version)| {
            request.check_version(version).map_err(|e| e.to_string())?;
            Ok(request.prepare(&base, version))
        });
        return match prepared {
            Ok(p) => {
                println!("{}", p.to_curl());
                exit::OK
            }
            Err(e) => fail(exit::INVALID, &e),
        };
    }
    let client: Client = match connect.client() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e),
    };
    if args.all {
        let rows = match client.iter_related(request) {
            Ok(r) => r,
            Err(e) => return request_failed(&e),
        };
        let mut rows = rows;
        for row in rows.by_ref() {
            match row {
                Ok(row) => print_row(row),
                Err(e) => return request_failed(&e),
            }
        }
        if rows.not_modified() {
            eprintln!("zcrm: not modified since {}", args.if_modified_since.as_deref().unwrap_or("?"));
        }
        return exit::OK;
    }
    match client.get_related(&request) {
        Ok(RelatedResponse::NotModified) => {
            eprintln!("zcrm: not modified since {}", args.if_modified_since.as_deref().unwrap_or("?"));
            exit::OK
        }
        Ok(RelatedResponse::Page(page)) => {
            let info = page.info.clone();
            page.rows.into_iter().for_each(print_row);
            if let Some(i) = info {
                let more = json!({"page": i.page, "count": i.count, "more_records": i.more_records,
                                  "next_page_token": i.next_page_token, "page_token_expiry": i.page_token_expiry});
                eprintln!("zcrm: {more}");
            }
            exit::OK
        }
        Err(e) => request_failed(&e),
    }
}

/// Runs `related delete`; returns the exit status.
pub fn delete(args: &DeleteArgs, connect: &ConnectArgs) -> i32 {
    let built =
        header_fields(&args.module, &args.related_list, args.related_module.as_deref(), args.x_external.as_deref())
            .and_then(|(base, related_field)| {
                DeleteRelatedSpec {
                    module: args.module.clone(),
                    parent: parent(&args.record, base),
                    related_list: args.related_list.clone(),
                    related_module: args.related_module.clone(),
                    related_field,
                    values: args.related.iter().cloned().chain(args.ids.iter().flatten().cloned()).collect(),
                }
                .build()
            });
    let request = match built {
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
    match client.delete_related(&request) {
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
        Err(e) => request_failed(&e),
    }
}
