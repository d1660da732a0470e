//! [`Client`] methods for the records operations ([`crate::records`]): each one sends its typed request through
//! [`Client::execute`] (retries, token refresh, scope hints), and the paged reads also come as iterators.

use crate::client::Client;
use crate::error::Result;
use crate::records::{
    DeleteRecords, GetRecords, InsertRecords, Pages, RecordsPage, RecordsResponse, SearchRecords, UpdateRecords,
    UpsertRecords,
};

impl Client {
    /// Reads records (one page): `GET {Module}/{value}`, `GET {Module}?ids=..`, or a page of the whole module.
    /// No match is an empty page.
    pub fn get_records(&self, request: &GetRecords) -> Result<RecordsPage> {
        self.execute(request)
    }

    /// The pages of a read, fetched as the iterator advances (each call with retries).
    pub fn record_pages(&self, request: &GetRecords) -> Pages<GetRecords> {
        Pages::new(self.clone(), request.clone())
    }

    /// Inserts records (`POST {Module}`); retried only after a 429, since an insert is not idempotent.
    pub fn insert_records(&self, request: &InsertRecords) -> Result<RecordsResponse> {
        self.execute(request)
    }

    /// Updates records (`PUT {Module}/{value}` or `PUT {Module}`).
    pub fn update_records(&self, request: &UpdateRecords) -> Result<RecordsResponse> {
        self.execute(request)
    }

    /// Inserts or updates records (`POST {Module}/upsert`); each outcome says which it did.
    ///
    /// ```
    /// use serde_json::json;
    /// use zcrm_emulator::{Emulator, EmulatorConfig};
    /// use zcrm_extid::records::{UpsertAction, UpsertRecords};
    /// use zcrm_extid::Client;
    /// let emu = Emulator::start(EmulatorConfig::default())?;
    /// let (id, secret, refresh) = Emulator::default_credentials();
    /// let client = Client::builder().refresh_token(id, secret, refresh)
    ///     .base_url(emu.base_url()).accounts_url(emu.accounts_url()).build()?;
    /// let upsert = UpsertRecords::builder("Contacts").duplicate_check_fields(["External_Contact_ID"])
    ///     .record(json!({"External_Contact_ID": "extcontact3", "Last_Name": "Renamed"}))
    ///     .record(json!({"External_Contact_ID": "new-1", "Last_Name": "New"}))
    ///     .build()?;
    /// let r = client.upsert_records(&upsert)?;
    /// assert_eq!(r.outcomes[0].action, Some(UpsertAction::Update));
    /// assert_eq!(r.outcomes[0].id(), Some("111111000000085009"));
    /// assert_eq!(r.outcomes[1].action, Some(UpsertAction::Insert));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upsert_records(&self, request: &UpsertRecords) -> Result<RecordsResponse> {
        self.execute(request)
    }

    /// Deletes records (`DELETE {Module}/{value}` or `DELETE {Module}?ids=..`).
    pub fn delete_records(&self, request: &DeleteRecords) -> Result<RecordsResponse> {
        self.execute(request)
    }

    /// Searches records by an external field (one page). No match is an empty page.
    pub fn search_records(&self, request: &SearchRecords) -> Result<RecordsPage> {
        self.execute(request)
    }

    /// The pages of a search, fetched as the iterator advances.
    pub fn search_pages(&self, request: &SearchRecords) -> Pages<SearchRecords> {
        Pages::new(self.clone(), request.clone())
    }
}
