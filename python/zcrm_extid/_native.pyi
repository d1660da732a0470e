# Stub of the compiled module (bindings/python). Checked against the built module by
# `python -m mypy.stubtest zcrm_extid._native` (run from the repo root, after installing); `mypy --strict` on the
# README's examples (with pandas-stubs) checks that idiomatic code type-checks against it. Docstrings are here
# for IDE hover. Settings left as None take the core's defaults.
from datetime import datetime
from typing import Callable, Iterable, Iterator, Literal, Mapping, Optional, Sequence, Tuple, Union, final

from zcrm_extid import External
from zcrm_extid.types import ApiVersion, DataCenter, Edition, Environment, ErrorCategory, Extra, Row

# pyo3's `add_function` and `add_class` append each name to the module's runtime `__all__`, so stubtest wants it here too.
__all__ = [
    "BulkReport",
    "BulkSummary",
    "CancelScope",
    "Change",
    "Client",
    "Emulator",
    "JobMetrics",
    "Outcome",
    "OutcomeStream",
    "PageInfo",
    "Plan",
    "PlanProgress",
    "PlanSummary",
    "PreparedRequest",
    "Progress",
    "RelatedIterator",
    "RelatedResult",
    "RelatedRow",
    "RecordIterator",
    "RecordOutcome",
    "RecordsPage",
    "RecordsResult",
    "RowOutcome",
    "UpdateResult",
    "__version__",
    "_client_from_env",
    "error_codes",
    "error_from_code",
    "parse_outcomes",
    "parse_related",
    "prepare_update_related",
    "settings_choices",
]

__version__: str
"""The version of the compiled module (the Cargo workspace's, as the distribution's)."""

_JsonValue = Union[None, bool, int, float, str, Sequence["_JsonValue"], Mapping[str, "_JsonValue"]]
_Json = Union[None, bool, int, float, str, list["_Json"], dict[str, "_Json"]]
_Parent = Union[str, int, External]
_Record = Mapping[str, object]
_Value = Union[str, int]
_Values = Union[str, int, Iterable[_Value]]
_Fields = Union[str, Iterable[str]]
_LinkFields = Union[str, Mapping[str, str], Sequence[Union[str, Tuple[str, str]]], None]
_Since = Union[str, datetime]
_Address = Union[str, int]
_Strings = Union[str, Iterable[str]]
_Body = Union[str, bytes]

@final
class Client:
    """A Zoho CRM client (thread-safe; share one per process: its calls share the keep-alive pool and the token).

    Give ``access_token``, or ``client_id`` + ``client_secret`` + ``refresh_token`` (tokens are then fetched,
    cached and refreshed ahead of expiry). Settings left as ``None`` take the core's defaults: the US data
    centre, production, API v5, 10 s connect and 60 s read timeouts, 4 retries of transient failures. Every
    call releases the GIL; Ctrl-C stops it before its next attempt. Pickles only when made by :meth:`from_env`
    (its credentials are then read again from the receiving process's environment); otherwise ``TypeError``.
    """

    def __new__(
        cls,
        access_token: Optional[str] = None,
        *,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        refresh_token: Optional[str] = None,
        data_center: Optional[DataCenter] = None,
        environment: Optional[Environment] = None,
        api_version: Optional[ApiVersion] = None,
        base_url: Optional[str] = None,
        accounts_url: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        proxy: Optional[str] = None,
        budget: Optional[str] = None,
        budget_prefix: Optional[str] = None,
        on_redis_error: Optional[Literal["fail", "local"]] = None,
        budget_concurrency: Optional[int] = None,
        daily_credits: Optional[int] = None,
    ) -> Client: ...
    @staticmethod
    def from_env(
        *,
        data_center: Optional[DataCenter] = None,
        environment: Optional[Environment] = None,
        api_version: Optional[ApiVersion] = None,
        base_url: Optional[str] = None,
        accounts_url: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        proxy: Optional[str] = None,
    ) -> Client:
        """A client from ``ZOHO_ACCESS_TOKEN`` (or ``ZOHO_CLIENT_ID`` + ``ZOHO_CLIENT_SECRET`` +
        ``ZOHO_REFRESH_TOKEN``), ``ZOHO_DC``, ``ZOHO_ENVIRONMENT``, ``ZOHO_API_VERSION``, ``ZOHO_BASE_URL``,
        ``ZOHO_ACCOUNTS_URL``, ``ZOHO_PROXY``; the keyword arguments (never credentials) win. Such a client
        pickles: the receiving process reads the credentials from its own environment."""
    def __reduce__(self) -> tuple[Callable[[dict[str, object]], Client], tuple[dict[str, object]]]: ...
    @property
    def base_url(self) -> str:
        """Where API calls go (until a token reply names another Zoho API domain)."""
    @property
    def api_version(self) -> str:
        """The API version in every path, e.g. ``v5``."""
    def update_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        records: Iterable[Row],
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> UpdateResult:
        """Links (updates) related records in one call: ``PUT /crm/{v}/{module}/{parent}/{related_list}``.

        ``parent`` is a record id or ``External(field, value)``; ``records`` any iterable of mappings (at most
        100); ``related_field`` names the related module's external field keying them (default: ``id``).
        Everything is checked before anything is sent (``InvalidInputError``). Per-record failures (HTTP 207)
        are outcomes, not exceptions."""
    def prepare_update_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        records: Iterable[Row],
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> PreparedRequest:
        """The HTTP request ``update_related`` would send, without sending it or fetching a token."""
    def get_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        *,
        fields: Optional[_Fields] = None,
        related: Optional[_Value] = None,
        ids: Optional[_Values] = None,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
        if_modified_since: Optional[_Since] = None,
    ) -> RelatedResult:
        """Reads related records in one call: one page of the list, or one record with ``related``. ``fields``
        is required for a list from v5 on; a 204 is an empty result, a 304 one with ``not_modified``."""
    def iter_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        *,
        fields: Optional[_Fields] = None,
        ids: Optional[_Values] = None,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
        if_modified_since: Optional[_Since] = None,
    ) -> RelatedIterator:
        """Every related record, page after page (one page in memory). Arguments are checked here."""
    def prepare_get_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        *,
        fields: Optional[_Fields] = None,
        related: Optional[_Value] = None,
        ids: Optional[_Values] = None,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
        if_modified_since: Optional[_Since] = None,
    ) -> PreparedRequest:
        """The HTTP request ``get_related`` would send (after the version rules), without sending it."""
    def delete_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        values: _Values,
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> UpdateResult:
        """Unlinks related records in one call (one value in the path, several in ``ids``); one outcome per
        value, in input order."""
    def prepare_delete_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        values: _Values,
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> PreparedRequest:
        """The HTTP request ``delete_related`` would send, without sending it."""
    def link_many(
        self,
        rows: Iterable[Row],
        *,
        parent: str,
        related: str,
        related_list: Optional[str] = None,
        parent_column: Optional[str] = None,
        related_column: Optional[str] = None,
        fields: _LinkFields = None,
        extra: Optional[Extra] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        batch_size: Optional[int] = None,
        window: Optional[int] = None,
        adaptive: Optional[bool] = None,
        on_progress: Optional[Callable[[Progress], object]] = None,
        progress_interval: Optional[float] = None,
        on_outcome: Optional[Callable[[RowOutcome], object]] = None,
        keep_outcomes: bool = True,
        reserve: Union[int, str, None] = None,
    ) -> BulkReport:
        """Links many rows (any iterable of mappings: a generator, ``csv.DictReader``, ``df.to_dict("records")``)
        at the API's limit: grouped by parent into calls of up to 100, bounded adaptive concurrency, retries;
        one outcome per row. ``parent`` / ``related`` are ``Module.Field``. ``on_outcome`` gets each row's
        outcome as its call completes; ``keep_outcomes=False`` keeps none in the report. A callback or the
        iterator raising, Ctrl-C, or an error that would fail every call stops the job; the exception is raised
        with ``bulk_report``."""
    def iter_link_many(
        self,
        rows: Iterable[Row],
        *,
        parent: str,
        related: str,
        related_list: Optional[str] = None,
        parent_column: Optional[str] = None,
        related_column: Optional[str] = None,
        fields: _LinkFields = None,
        extra: Optional[Extra] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        batch_size: Optional[int] = None,
        window: Optional[int] = None,
        adaptive: Optional[bool] = None,
        on_progress: Optional[Callable[[Progress], object]] = None,
        progress_interval: Optional[float] = None,
        reserve: Union[int, str, None] = None,
    ) -> OutcomeStream:
        """``link_many`` as an iterator of outcomes, each as its call completes (memory bounded by the window):
        ``for outcome in client.iter_link_many(rows, ...)``. ``close()`` (or a ``with`` block) stops the job."""
    def upsert_many(
        self,
        rows: Iterable[Row],
        *,
        module: str,
        key: str,
        lookups: Optional[Mapping[str, str]] = None,
        columns: Union[str, Mapping[str, str], Sequence[Union[str, Tuple[str, str]]], None] = None,
        skip: Optional[_Strings] = None,
        duplicate_check_fields: Optional[_Strings] = None,
        external_fields: Optional[_Strings] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        batch_size: Optional[int] = None,
        window: Optional[int] = None,
        adaptive: Optional[bool] = None,
        on_progress: Optional[Callable[[Progress], object]] = None,
        progress_interval: Optional[float] = None,
        on_outcome: Optional[Callable[[RowOutcome], object]] = None,
        keep_outcomes: bool = True,
        reserve: Union[int, str, None] = None,
    ) -> BulkReport:
        """Inserts or updates many records of ``module`` by their external ``key`` (any iterable of mappings:
        ``df.to_dict("records")``, ``csv.DictReader``); ``lookups={"Account_Name":
        "Accounts.External_Account_ID:account"}`` fills a lookup by external ID from a column. NaN/None cells are
        left out. One outcome per row, with ``action`` and ``id``; options and errors as for ``link_many``."""
    def unlink_many(
        self,
        rows: Iterable[Row],
        *,
        parent: str,
        related: str,
        related_list: Optional[str] = None,
        parent_column: Optional[str] = None,
        related_column: Optional[str] = None,
        fields: _LinkFields = None,
        extra: Optional[Extra] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        batch_size: Optional[int] = None,
        window: Optional[int] = None,
        adaptive: Optional[bool] = None,
        on_progress: Optional[Callable[[Progress], object]] = None,
        progress_interval: Optional[float] = None,
        on_outcome: Optional[Callable[[RowOutcome], object]] = None,
        keep_outcomes: bool = True,
        reserve: Union[int, str, None] = None,
    ) -> BulkReport:
        """Unlinks many rows (the rows and arguments of ``link_many``): grouped by parent into ``DELETE ?ids=``
        calls of up to 100; one outcome per row (a pair not linked is a failed outcome, not an exception)."""
    def plan_links(
        self,
        rows: Iterable[Row],
        *,
        parent: str,
        related: str,
        fields: _LinkFields = None,
        unlink_missing: Optional[bool] = None,
        max_unlinks: Union[int, str, None] = None,
        related_list: Optional[str] = None,
        parent_column: Optional[str] = None,
        related_column: Optional[str] = None,
        extra: Optional[Extra] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        window: Optional[int] = None,
        on_progress: Optional[Callable[[PlanProgress], object]] = None,
        progress_interval: Optional[float] = None,
    ) -> Plan:
        """Plans a reconcile: reads each parent's links and lists the links, updates and (with
        ``unlink_missing=True``) unlinks that make them equal ``rows``. Nothing is changed in Zoho."""
    def load_plan(self, text: str) -> Plan:
        """A plan saved with ``Plan.to_json()``."""
    def get_records(
        self,
        module: str,
        ids: Union[_Address, Iterable[_Address], None] = None,
        *,
        key: Optional[str] = None,
        fields: Optional[_Strings] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
    ) -> RecordsPage: ...
    def iter_records(
        self,
        module: str,
        ids: Union[_Address, Iterable[_Address], None] = None,
        *,
        key: Optional[str] = None,
        fields: Optional[_Strings] = None,
        per_page: Optional[int] = None,
    ) -> RecordIterator: ...
    def insert_records(
        self, module: str, records: Iterable[_Record], *, external_fields: Optional[_Strings] = None
    ) -> RecordsResult: ...
    def update_records(
        self,
        module: str,
        records: Iterable[_Record],
        *,
        key: Optional[str] = None,
        id: Optional[_Address] = None,
        external_fields: Optional[_Strings] = None,
    ) -> RecordsResult: ...
    def upsert_records(
        self,
        module: str,
        records: Iterable[_Record],
        *,
        duplicate_check_fields: Optional[_Strings] = None,
        external_fields: Optional[_Strings] = None,
    ) -> RecordsResult: ...
    def delete_records(
        self, module: str, ids: Union[_Address, Iterable[_Address]], *, key: Optional[str] = None
    ) -> RecordsResult: ...
    def search_records(
        self,
        module: str,
        values: _Strings,
        *,
        key: str,
        fields: Optional[_Strings] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
    ) -> RecordsPage: ...
    def prepare_records(
        self,
        operation: str,
        module: str,
        *,
        records: Optional[Iterable[_Record]] = None,
        key: Optional[str] = None,
        id: Optional[_Address] = None,
        ids: Union[_Address, Iterable[_Address], None] = None,
        values: Optional[_Strings] = None,
        fields: Optional[_Strings] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
        external_fields: Optional[_Strings] = None,
        duplicate_check_fields: Optional[_Strings] = None,
    ) -> PreparedRequest: ...

def prepare_update_related(
    module: str,
    parent: _Parent,
    related_list: str,
    records: Iterable[Row],
    *,
    related_field: Optional[str] = None,
    related_module: Optional[str] = None,
    data_center: Optional[DataCenter] = None,
    environment: Optional[Environment] = None,
    api_version: Optional[ApiVersion] = None,
    base_url: Optional[str] = None,
    access_token: Optional[str] = None,
) -> PreparedRequest:
    """The HTTP request of an "update related records" call, built offline (no client, no I/O); with
    ``access_token`` the ``Authorization`` header is included (shown redacted)."""

def parse_outcomes(status: int, content_type: Optional[str], body: _Body, records_sent: int) -> list[Outcome]:
    """Interprets the answer to a call that sent ``records_sent`` records (for a request sent by other means):
    one ``Outcome`` per record, or the exception the client would raise."""

def parse_related(status: int, content_type: Optional[str], body: _Body) -> RelatedResult:
    """Interprets the answer to a related-records read: rows and ``info``, empty for 204, ``not_modified`` for
    304, or the exception the client would raise."""

def error_codes() -> list[tuple[str, ErrorCategory, bool]]:
    """Every code the client knows, as ``(code, category, retryable)`` (the core's table)."""

def error_from_code(code: str, status: Optional[int] = None, message: str = "rebuilt from its code") -> BaseException:
    """The exception the client raises for ``code`` (and ``status``), not raised: for rebuilding an error from a
    report's code."""

def settings_choices() -> list[tuple[Literal["data_center", "environment", "api_version", "edition"], list[str]]]:
    """The values each enumerated setting accepts (what :mod:`zcrm_extid.types` lists)."""

def _client_from_env(overrides: dict[str, object]) -> Client:
    """``Client.from_env(**overrides)``: how a pickled client is restored."""

@final
class CancelScope:
    """Cancels the calls made on this thread inside ``with scope:`` when ``scope.cancel()`` is called (from any
    thread): how :mod:`zcrm_extid.aio` cancels a call with its task."""

    def __new__(cls) -> CancelScope: ...
    def cancel(self) -> None:
        """Cancels the scope's calls: no further attempt; a bulk job stops sending."""
    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""
    def __enter__(self) -> CancelScope: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Outcome:
    """The result for one record: Zoho's success, or a per-record failure."""

    @property
    def index(self) -> int:
        """The record's 0-based position in the input."""
    @property
    def ok(self) -> bool:
        """True when the record succeeded."""
    @property
    def code(self) -> str:
        """``SUCCESS``, or the failure's code (Zoho's, e.g. ``INVALID_DATA``, or the client's)."""
    @property
    def message(self) -> str:
        """Zoho's message, e.g. ``relation added``."""
    @property
    def details(self) -> dict[str, _Json]:
        """Zoho's ``details`` (a new dict on each access)."""
    @property
    def id(self) -> Optional[str]:
        """The Zoho record id in ``details["id"]``, as ``str``."""
    @property
    def status(self) -> Optional[int]:
        """For a failure: the HTTP status of the response that carried it."""

@final
class UpdateResult:
    """The result of one call: the HTTP status and one ``Outcome`` per record, in input order (iterable, sized,
    indexable)."""

    @property
    def status(self) -> int:
        """200 (all succeeded), 207 (mixed) or 400 (all failed)."""
    @property
    def outcomes(self) -> list[Outcome]:
        """One outcome per record, in input order."""
    @property
    def credits_remaining(self) -> Optional[int]:
        """``X-API-CREDITS-REMAINING``, which Zoho sends once half the day's credits are used."""
    @property
    def all_succeeded(self) -> bool:
        """True when every record succeeded."""
    @property
    def succeeded(self) -> int:
        """How many records succeeded."""
    @property
    def failed(self) -> int:
        """How many records failed."""
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> Outcome: ...
    def __iter__(self) -> Iterator[Outcome]: ...

@final
class RelatedRow:
    """One related record: its Zoho ``id`` and its other keys in ``fields``; ``row["Stage"]`` reads a field."""

    @property
    def id(self) -> str:
        """The related record's Zoho id."""
    @property
    def fields(self) -> dict[str, _Json]:
        """Every other key Zoho sent, as a new dict."""
    def __getitem__(self, key: str, /) -> _Json: ...

@final
class PageInfo:
    """The ``info`` of a list read (``None`` for what Zoho did not send)."""

    @property
    def per_page(self) -> Optional[int]: ...
    @property
    def count(self) -> Optional[int]: ...
    @property
    def page(self) -> Optional[int]: ...
    @property
    def more_records(self) -> bool: ...
    @property
    def next_page_token(self) -> Optional[str]: ...
    @property
    def previous_page_token(self) -> Optional[str]: ...
    @property
    def page_token_expiry(self) -> Optional[str]: ...

@final
class RelatedResult:
    """The answer to one read: rows (none for a 204 or a 304), ``info`` for list reads, ``not_modified`` for
    a 304 (iterable, sized, indexable)."""

    @property
    def status(self) -> int:
        """200, 204 (no related records) or 304 (not modified)."""
    @property
    def rows(self) -> list[RelatedRow]:
        """The rows, in Zoho's order."""
    @property
    def info(self) -> Optional[PageInfo]:
        """``info`` (list reads), else ``None``."""
    @property
    def not_modified(self) -> bool:
        """True for a 304: nothing changed since ``if_modified_since``."""
    @property
    def credits_remaining(self) -> Optional[int]:
        """``X-API-CREDITS-REMAINING``, sent once half the day's credits are used."""
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> RelatedRow: ...
    def __iter__(self) -> Iterator[RelatedRow]: ...

@final
class RelatedIterator:
    """Every related record of a read, page by page (one page in memory); an error is raised by ``next()``."""

    def __iter__(self) -> RelatedIterator: ...
    def __next__(self) -> RelatedRow: ...
    @property
    def not_modified(self) -> bool:
        """True when the server answered 304."""
    @property
    def pages_fetched(self) -> int:
        """Pages received so far."""

@final
class RecordOutcome:
    @property
    def index(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def details(self) -> dict[str, _Json]: ...
    @property
    def id(self) -> Optional[str]: ...
    @property
    def status(self) -> Optional[int]: ...
    @property
    def action(self) -> Optional[str]: ...
    @property
    def duplicate_field(self) -> Optional[str]: ...

@final
class RecordsResult:
    @property
    def status(self) -> int: ...
    @property
    def outcomes(self) -> list[RecordOutcome]: ...
    @property
    def credits_remaining(self) -> Optional[int]: ...
    @property
    def all_succeeded(self) -> bool: ...
    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> RecordOutcome: ...
    def __iter__(self) -> Iterator[RecordOutcome]: ...

@final
class RecordsPage:
    @property
    def records(self) -> list[dict[str, _Json]]: ...
    @property
    def info(self) -> Optional[dict[str, _Json]]: ...
    @property
    def more_records(self) -> bool: ...
    @property
    def credits_remaining(self) -> Optional[int]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> dict[str, _Json]: ...
    def __iter__(self) -> Iterator[dict[str, _Json]]: ...

@final
class RecordIterator:
    def __iter__(self) -> RecordIterator: ...
    def __next__(self) -> dict[str, _Json]: ...

@final
class PreparedRequest:
    """A request built and validated but not sent; the access token always shows as ``Zoho-oauthtoken ***``."""

    @property
    def method(self) -> str:
        """``PUT``, ``GET`` or ``DELETE``."""
    @property
    def url(self) -> str:
        """The full URL, path segments percent-encoded."""
    @property
    def headers(self) -> list[tuple[str, str]]:
        """The headers in order, ``Authorization`` redacted."""
    @property
    def body(self) -> str:
        """The body text (compact JSON)."""
    def to_curl(self) -> str:
        """The request as a shell command, the token shown as ``***``."""

@final
class Progress:
    """Progress of a running bulk job (every count moves as calls complete, in any order)."""

    @property
    def rows_read(self) -> int: ...
    @property
    def rows_sent(self) -> int: ...
    @property
    def completed(self) -> int: ...
    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def waiting_retry(self) -> int: ...
    @property
    def buffered(self) -> int: ...
    @property
    def rows_per_sec(self) -> float: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def expected_rows(self) -> Optional[int]: ...
    @property
    def eta(self) -> Optional[float]: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def calls(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def rate_limited(self) -> int: ...
    @property
    def stopping(self) -> bool: ...

@final
class RowOutcome:
    """The final outcome of one input row of a bulk job."""

    @property
    def row(self) -> int:
        """0-based index of the row in the input."""
    @property
    def parent(self) -> str:
        """The parent's record id or external value (empty if the row was invalid before it was read)."""
    @property
    def key(self) -> Optional[str]:
        """The related record's key (external value or id), if the row had one."""
    @property
    def outcome(self) -> Outcome:
        """The row's outcome (``ok``, ``code``, ``message``, ``details``, ``id``, ``status`` repeat its fields)."""
    @property
    def action(self) -> Optional[Literal["insert", "update"]]:
        """``upsert_many``: ``"insert"`` or ``"update"`` for a success."""
    @property
    def duplicate_field(self) -> Optional[str]:
        """``upsert_many``: the field whose value matched an existing record (``None`` for an insert)."""
    @property
    def ok(self) -> bool:
        """True when the row was linked."""
    @property
    def code(self) -> str:
        """``SUCCESS``, Zoho's code, or the client's (``INVALID_INPUT``, ``NOT_ATTEMPTED``, ``TRANSPORT``, ...)."""
    @property
    def message(self) -> str: ...
    @property
    def details(self) -> dict[str, _Json]: ...
    @property
    def id(self) -> Optional[str]:
        """The related record's Zoho id, for a success."""
    @property
    def status(self) -> Optional[int]: ...
    @property
    def attempts(self) -> int:
        """Calls made for this row's batch (0: never sent)."""

@final
class BulkSummary:
    """Totals of a finished bulk job."""

    @property
    def rows(self) -> int: ...
    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def invalid(self) -> int: ...
    @property
    def not_attempted(self) -> int: ...
    @property
    def calls(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def rate_limited(self) -> int: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def max_buffered_rows(self) -> int: ...
    @property
    def peak_held_rows(self) -> int: ...
    @property
    def throttle_waits(self) -> int: ...
    @property
    def stopped(self) -> Optional[str]:
        """The code of the error that stopped the job (circuit breaker), if one did."""
    @property
    def min_concurrency(self) -> int: ...
    @property
    def cancelled(self) -> bool: ...
    @property
    def metrics(self) -> JobMetrics: ...

@final
class JobMetrics:
    @property
    def retries_429(self) -> int: ...
    @property
    def retries_5xx(self) -> int: ...
    @property
    def retries_transport(self) -> int: ...
    @property
    def retries_timeout(self) -> int: ...
    @property
    def retries_by_cause(self) -> dict[str, int]: ...
    @property
    def timed_calls(self) -> int: ...
    @property
    def latency_p50(self) -> float: ...
    @property
    def latency_p95(self) -> float: ...
    @property
    def latency_max(self) -> float: ...
    @property
    def rows_per_sec(self) -> float: ...
    @property
    def backoff_wait(self) -> float: ...
    @property
    def token_refreshes(self) -> int: ...
    @property
    def credits_used(self) -> int: ...
    @property
    def credits_remaining(self) -> Optional[int]: ...

@final
class BulkReport:
    """One outcome per row read (sorted by row) and the totals (iterable, sized, indexable)."""

    @property
    def outcomes(self) -> list[RowOutcome]: ...
    @property
    def summary(self) -> BulkSummary: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> RowOutcome: ...
    def __iter__(self) -> Iterator[RowOutcome]: ...

@final
class OutcomeStream:
    """The outcomes of a bulk job as they complete (``Client.iter_link_many``); a context manager that stops
    the job on exit."""

    def __iter__(self) -> OutcomeStream: ...
    def __next__(self) -> RowOutcome: ...
    def close(self) -> None:
        """Stops the job: no new calls are sent, calls in flight finish."""
    @property
    def summary(self) -> Optional[BulkSummary]:
        """The totals, once the iteration ended."""
    def __enter__(self) -> OutcomeStream: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Change:
    @property
    def op(self) -> Literal["link", "update", "unlink"]: ...
    @property
    def parent(self) -> str: ...
    @property
    def related(self) -> Optional[str]: ...
    @property
    def id(self) -> Optional[str]: ...
    @property
    def fields(self) -> dict[str, _Json]: ...
    @property
    def before(self) -> dict[str, _Json]: ...
    @property
    def row(self) -> Optional[int]: ...

@final
class PlanSummary:
    @property
    def rows(self) -> int: ...
    @property
    def invalid_rows(self) -> int: ...
    @property
    def duplicate_rows(self) -> int: ...
    @property
    def parents(self) -> int: ...
    @property
    def parents_failed(self) -> int: ...
    @property
    def parents_changed(self) -> int: ...
    @property
    def read_calls(self) -> int: ...
    @property
    def current_links(self) -> int: ...
    @property
    def links(self) -> int: ...
    @property
    def updates(self) -> int: ...
    @property
    def unlinks(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def withheld_unlinks(self) -> int: ...
    @property
    def changes(self) -> int: ...

@final
class PlanProgress:
    @property
    def rows_read(self) -> int: ...
    @property
    def rows_planned(self) -> int: ...
    @property
    def rows_total(self) -> Optional[int]: ...
    @property
    def parents(self) -> int: ...
    @property
    def read_calls(self) -> int: ...
    @property
    def changes(self) -> int: ...
    @property
    def elapsed(self) -> float: ...

@final
class Plan:
    @property
    def summary(self) -> PlanSummary: ...
    @property
    def changes(self) -> list[Change]: ...
    @property
    def invalid(self) -> list[tuple[int, str, str]]: ...
    @property
    def unlink_missing(self) -> bool: ...
    @property
    def max_unlinks(self) -> Optional[str]: ...
    @property
    def is_empty(self) -> bool: ...
    def summary_text(self) -> str: ...
    def diff(self) -> str: ...
    def to_json(self) -> str: ...
    def apply(
        self,
        *,
        on_progress: Optional[Callable[[Progress], object]] = None,
        recheck: Optional[bool] = None,
        max_unlinks: Union[int, str, None] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        batch_size: Optional[int] = None,
        window: Optional[int] = None,
        progress_interval: Optional[float] = None,
    ) -> BulkReport: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> Change: ...
    def __iter__(self) -> Iterator[Change]: ...

@final
class Emulator:
    """A local, stateful Zoho CRM (API, OAuth token endpoint, faults) on ``127.0.0.1`` with a free port; a
    context manager that stops it on exit. After ``stop()``, its methods raise ``RuntimeError``."""

    def __new__(
        cls,
        *,
        latency_ms: Optional[int] = None,
        latency_max_ms: Optional[int] = None,
        concurrency: Optional[int] = None,
        edition: Optional[Edition] = None,
        credits: Optional[int] = None,
        token_lifetime: Optional[int] = None,
        token_throttle: Optional[int] = None,
        seed: Optional[Mapping[str, _JsonValue]] = None,
    ) -> Emulator: ...
    @property
    def base_url(self) -> str:
        """The CRM API base URL, e.g. ``http://127.0.0.1:41234``."""
    @property
    def accounts_url(self) -> str:
        """The accounts (OAuth) URL."""
    def client(
        self,
        *,
        access_token: Optional[str] = ...,
        client_id: Optional[str] = ...,
        client_secret: Optional[str] = ...,
        refresh_token: Optional[str] = ...,
        data_center: Optional[DataCenter] = ...,
        environment: Optional[Environment] = ...,
        api_version: Optional[ApiVersion] = ...,
        base_url: Optional[str] = ...,
        accounts_url: Optional[str] = ...,
        connect_timeout: Optional[float] = ...,
        read_timeout: Optional[float] = ...,
        max_retries: Optional[int] = ...,
    ) -> Client:
        """A ``Client`` wired to this emulator with the default seed's OAuth client; keywords override."""
    def client_options(self) -> dict[str, str]:
        """The settings ``client()`` uses, as ``Client`` keyword arguments."""
    def state(self) -> dict[str, _Json]: ...
    def stats(self) -> dict[str, int]: ...
    def journal(self) -> list[dict[str, _Json]]: ...
    def clear_journal(self) -> None: ...
    def push_fault(
        self,
        fault: Optional[Mapping[str, _JsonValue]] = None,
        *,
        kind: Optional[str] = None,
        status: Optional[int] = None,
        body: Optional[str] = None,
        content_type: Optional[str] = None,
        headers: Optional[Sequence[Tuple[str, str]]] = None,
        count: Optional[int] = None,
        forever: Optional[bool] = None,
        probability: Optional[float] = None,
        phase: Optional[str] = None,
        target: Optional[str] = None,
        ms: Optional[int] = None,
        max_ms: Optional[int] = None,
    ) -> None:
        """Queues a fault (the emulator's fault JSON, or keywords): ``push_fault(kind="status", status=500)``."""
    def clear_faults(self) -> None: ...
    def expire_tokens(self) -> None: ...
    def revoke_refresh_token(self, token: str) -> bool: ...
    def reset(self) -> None: ...
    def insert_records(self, module: str, records: Iterable[Mapping[str, _JsonValue]]) -> list[str]: ...
    def related(self, module: str, record_id: str, related_module: str) -> list[tuple[str, dict[str, _Json]]]: ...
    def find_external(self, module: str, field: str, value: str) -> Optional[str]: ...
    def add_access_token(self, token: str, scopes: Sequence[str], expires_in: Optional[float] = None) -> None: ...
    def add_refresh_token(self, client_id: str, client_secret: str, token: str, scopes: Sequence[str]) -> None: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Emulator: ...
    def __exit__(self, *exc: object) -> bool: ...
