//! Reading every related record, page after page: [`RelatedPages`] (an `Iterator` of pages) and [`RelatedRows`]
//! (of rows), from [`crate::Client::iter_related`] and [`crate::Client::related_pages`]. Each holds at most one
//! page: the next is fetched when the last row of the current one has been taken.
//!
//! How the next page is asked for:
//! * **v7 and v8** page with `page_token`: the `info.next_page_token` of each page asks for the next one
//!   (spec §3.2; tokens have no 2,000-record limit). Should a page say `more_records: true` without a token,
//!   the next `page` number is asked for instead.
//! * **v2 to v6** have no page tokens (their `info` has none, §2.1, §8): pages are asked for by `page` number.
//!   Zoho serves at most 2,000 records that way (§3.2, §5.5). The client still asks for the page after record
//!   2,000 (it does not guess whether an old version enforces the limit); when Zoho refuses it, that error ends
//!   the iteration as its last item, with a hint to use v7 or v8. The rows before it have all been yielded.
//!
//! The iteration ends after a page with `more_records: false` (or no `info`: the single-record form), an empty
//! page (a 204), a 304 (`If-Modified-Since`: nothing changed; see [`RelatedRows::not_modified`]), or an error,
//! which is yielded once as the last item. The usual retries apply to each page. Should the server hand out the
//! same page token twice in a row, the iteration ends with an [`Error::UnexpectedResponse`] rather than loop.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::related_get::{Cursor, GetRelated, MAX_PER_PAGE, PAGE_RECORD_LIMIT, RelatedTarget, has_page_tokens};
use crate::related_rows::{PageInfo, RelatedPage, RelatedResponse, RelatedRow};

#[derive(Debug)]
enum State {
    Start,
    At(Cursor),
    Fail(Error),
    Done,
}

/// Every page of a related-records read, fetched one at a time. Build it with [`Client::related_pages`].
#[derive(Debug)]
pub struct RelatedPages {
    client: Client,
    request: GetRelated,
    state: State,
    not_modified: bool,
    pages: usize,
    last_info: Option<PageInfo>,
}

impl RelatedPages {
    pub(crate) fn new(client: Client, request: GetRelated) -> RelatedPages {
        RelatedPages { client, request, state: State::Start, not_modified: false, pages: 0, last_info: None }
    }

    /// True when the server answered 304: nothing changed since `If-Modified-Since`.
    pub fn not_modified(&self) -> bool {
        self.not_modified
    }

    /// Pages received so far.
    pub fn pages_fetched(&self) -> usize {
        self.pages
    }

    /// The `info` of the last page received, if it had one.
    pub fn last_info(&self) -> Option<&PageInfo> {
        self.last_info.as_ref()
    }

    /// Ends the iteration: nothing more is fetched.
    pub fn finish(&mut self) {
        self.state = State::Done;
    }

    fn following(&self, call: &GetRelated, cursor: Option<&Cursor>, page: &RelatedPage) -> State {
        let Some(info) = page.info.as_ref().filter(|i| i.more_records) else { return State::Done };
        if page.rows.is_empty() || matches!(call.target(), RelatedTarget::One(_)) {
            return State::Done;
        }
        if has_page_tokens(self.client.api_version())
            && let Some(token) = &info.next_page_token
        {
            if matches!(cursor, Some(Cursor::Token(t)) if t == token) {
                return State::Fail(Error::UnexpectedResponse {
                    status: page.status,
                    reason: "the server sent the same next_page_token twice; stopping instead of reading the same page again".into(),
                    content_type: None,
                    body_prefix: String::new(),
                });
            }
            return State::At(Cursor::Token(token.clone()));
        }
        let current = info.page.or(call.page()).unwrap_or(1);
        State::At(Cursor::Page(current.saturating_add(1)))
    }
}

/// The hint added to an error for a page that starts past record 2,000 on a version without page tokens.
fn past_page_limit(error: Error, call: &GetRelated, client: &Client) -> Error {
    let per_page = u64::from(call.per_page().unwrap_or(MAX_PER_PAGE));
    let first_record = u64::from(call.page().unwrap_or(1).saturating_sub(1)) * per_page;
    match error {
        Error::Api { status, code, message, details, hint: None }
            if first_record >= PAGE_RECORD_LIMIT && !has_page_tokens(client.api_version()) =>
        {
            Error::Api {
                status,
                code,
                message,
                details,
                hint: Some(format!(
                    "page-based reads stop at {PAGE_RECORD_LIMIT} records (spec §3.2); API v7 and v8 page with page_token past that: set api_version to v7 or v8 (this client uses {})",
                    client.api_version()
                )),
            }
        }
        other => other,
    }
}

impl Iterator for RelatedPages {
    type Item = Result<RelatedPage>;

    fn next(&mut self) -> Option<Result<RelatedPage>> {
        let cursor = match std::mem::replace(&mut self.state, State::Done) {
            State::Done => return None,
            State::Fail(e) => return Some(Err(e)),
            State::Start => None,
            State::At(c) => Some(c),
        };
        let call = match &cursor {
            Some(c) => std::borrow::Cow::Owned(self.request.at(c)),
            None => std::borrow::Cow::Borrowed(&self.request),
        };
        match self.client.execute(&*call) {
            Err(e) => Some(Err(past_page_limit(e, &call, &self.client))),
            Ok(RelatedResponse::NotModified) => {
                self.not_modified = true;
                None
            }
            Ok(RelatedResponse::Page(page)) => {
                self.pages += 1;
                self.state = self.following(&call, cursor.as_ref(), &page);
                self.last_info.clone_from(&page.info);
                Some(Ok(page))
            }
        }
    }
}

/// Every related record of a read, one page in memory at a time. Build it with [`Client::iter_related`].
///
/// ```
/// # use zcrm_emulator::{Emulator, EmulatorConfig};
/// use zcrm_extid::{Client, GetRelated, Parent};
/// # let emu = Emulator::start(EmulatorConfig::default())?;
/// # let (id, secret, refresh) = Emulator::default_credentials();
/// # let client = Client::builder().refresh_token(id, secret, refresh).base_url(emu.base_url()).accounts_url(emu.accounts_url()).build()?;
/// let read = GetRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3")?, "Deals")
///     .fields(["Deal_Name"])
///     .per_page(200)
///     .build()?;
/// for row in client.iter_related(read)? {
///     let row = row?;
///     println!("{} {}", row.id, row.fields["Deal_Name"]);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RelatedRows {
    pages: RelatedPages,
    current: std::vec::IntoIter<RelatedRow>,
}

impl RelatedRows {
    pub(crate) fn new(pages: RelatedPages) -> RelatedRows {
        RelatedRows { pages, current: Vec::new().into_iter() }
    }

    /// The next row of the page in memory, without fetching one (`None` when the page is used up).
    pub fn next_buffered(&mut self) -> Option<RelatedRow> {
        self.current.next()
    }

    /// Rows of the current page not yet taken.
    pub fn buffered(&self) -> usize {
        self.current.len()
    }

    /// Ends the iteration: the rows of the page in memory are dropped and nothing more is fetched.
    pub fn finish(&mut self) {
        self.current = Vec::new().into_iter();
        self.pages.finish();
    }

    /// True when the server answered 304: nothing changed since `If-Modified-Since` (and no row was yielded).
    pub fn not_modified(&self) -> bool {
        self.pages.not_modified()
    }

    /// Pages received so far.
    pub fn pages_fetched(&self) -> usize {
        self.pages.pages_fetched()
    }

    /// The `info` of the last page received, if it had one.
    pub fn last_info(&self) -> Option<&PageInfo> {
        self.pages.last_info()
    }
}

impl Iterator for RelatedRows {
    type Item = Result<RelatedRow>;

    fn next(&mut self) -> Option<Result<RelatedRow>> {
        loop {
            if let Some(row) = self.current.next() {
                return Some(Ok(row));
            }
            match self.pages.next()? {
                Ok(page) => self.current = page.rows.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
