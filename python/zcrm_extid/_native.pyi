# Stub of the compiled module (bindings/python). Checked against the built module by
# `python -m mypy.stubtest zcrm_extid._native` (run from the repo root, after installing).
# Settings left as None take the core's defaults (see each docstring in the Rust source).
from datetime import datetime
from typing import Literal, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Tuple, Union, final

from zcrm_extid import External

# pyo3's `add_function` and `add_class` append each name to the module's runtime `__all__`, so stubtest wants it here too.
__all__ = [
    "BulkReport",
    "BulkSummary",
    "Client",
    "Emulator",
    "JobMetrics",
    "Outcome",
    "PageInfo",
    "PreparedRequest",
    "Progress",
    "RelatedIterator",
    "RelatedResult",
    "RelatedRow",
    "RowOutcome",
    "UpdateResult",
    "prepare_update_related",
]

_JsonValue = Union[None, bool, int, float, str, Sequence["_JsonValue"], Mapping[str, "_JsonValue"]]
_Json = Union[None, bool, int, float, str, list["_Json"], dict[str, "_Json"]]
_Parent = Union[str, int, External]
_Record = Mapping[str, object]
_Value = Union[str, int]
_Values = Union[str, int, Iterable[_Value]]
_Fields = Union[str, Iterable[str]]
_Since = Union[str, datetime]

@final
class Client:
    def __new__(
        cls,
        access_token: Optional[str] = None,
        *,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        refresh_token: Optional[str] = None,
        data_center: Optional[str] = None,
        environment: Optional[str] = None,
        api_version: Optional[str] = None,
        base_url: Optional[str] = None,
        accounts_url: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        proxy: Optional[str] = None,
    ) -> Client: ...
    @staticmethod
    def from_env() -> Client: ...
    @property
    def base_url(self) -> str: ...
    @property
    def api_version(self) -> str: ...
    def update_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        records: Iterable[_Record],
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> UpdateResult: ...
    def prepare_update_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        records: Iterable[_Record],
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> PreparedRequest: ...
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
    ) -> RelatedResult: ...
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
    ) -> RelatedIterator: ...
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
    ) -> PreparedRequest: ...
    def delete_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        values: _Values,
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> UpdateResult: ...
    def prepare_delete_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        values: _Values,
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> PreparedRequest: ...
    def link_many(
        self,
        rows: Iterable[Mapping[str, object]],
        *,
        parent: str,
        related: str,
        related_list: Optional[str] = None,
        parent_column: Optional[str] = None,
        related_column: Optional[str] = None,
        fields: Union[str, Mapping[str, str], Sequence[Union[str, Tuple[str, str]]], None] = None,
        extra: Optional[Literal["ignore", "error"]] = None,
        concurrency: Optional[int] = None,
        edition: Optional[str] = None,
        batch_size: Optional[int] = None,
        window: Optional[int] = None,
        on_progress: Optional[Callable[[Progress], object]] = None,
        progress_interval: Optional[float] = None,
    ) -> BulkReport: ...

def prepare_update_related(
    module: str,
    parent: _Parent,
    related_list: str,
    records: Iterable[_Record],
    *,
    related_field: Optional[str] = None,
    related_module: Optional[str] = None,
    data_center: Optional[str] = None,
    environment: Optional[str] = None,
    api_version: Optional[str] = None,
    base_url: Optional[str] = None,
    access_token: Optional[str] = None,
) -> PreparedRequest: ...

@final
class Outcome:
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

@final
class UpdateResult:
    @property
    def status(self) -> int: ...
    @property
    def outcomes(self) -> list[Outcome]: ...
    @property
    def credits_remaining(self) -> Optional[int]: ...
    @property
    def all_succeeded(self) -> bool: ...
    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> Outcome: ...
    def __iter__(self) -> Iterator[Outcome]: ...

@final
class RelatedRow:
    @property
    def id(self) -> str: ...
    @property
    def fields(self) -> dict[str, _Json]: ...
    def __getitem__(self, key: str, /) -> _Json: ...

@final
class PageInfo:
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
    @property
    def status(self) -> int: ...
    @property
    def rows(self) -> list[RelatedRow]: ...
    @property
    def info(self) -> Optional[PageInfo]: ...
    @property
    def not_modified(self) -> bool: ...
    @property
    def credits_remaining(self) -> Optional[int]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> RelatedRow: ...
    def __iter__(self) -> Iterator[RelatedRow]: ...

@final
class RelatedIterator:
    def __iter__(self) -> RelatedIterator: ...
    def __next__(self) -> RelatedRow: ...
    @property
    def not_modified(self) -> bool: ...
    @property
    def pages_fetched(self) -> int: ...

@final
class PreparedRequest:
    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> list[tuple[str, str]]: ...
    @property
    def body(self) -> str: ...
    def to_curl(self) -> str: ...

@final
class Progress:
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
    @property
    def row(self) -> int: ...
    @property
    def parent(self) -> str: ...
    @property
    def key(self) -> Optional[str]: ...
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
    def attempts(self) -> int: ...

@final
class BulkSummary:
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
    def stopped(self) -> Optional[str]: ...
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
    @property
    def outcomes(self) -> list[RowOutcome]: ...
    @property
    def summary(self) -> BulkSummary: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> RowOutcome: ...
    def __iter__(self) -> Iterator[RowOutcome]: ...

@final
class Emulator:
    def __new__(
        cls,
        *,
        latency_ms: Optional[int] = None,
        latency_max_ms: Optional[int] = None,
        concurrency: Optional[int] = None,
        edition: Optional[str] = None,
        credits: Optional[int] = None,
        token_lifetime: Optional[int] = None,
        token_throttle: Optional[int] = None,
        seed: Optional[Mapping[str, _JsonValue]] = None,
    ) -> Emulator: ...
    @property
    def base_url(self) -> str: ...
    @property
    def accounts_url(self) -> str: ...
    def client(
        self,
        *,
        access_token: Optional[str] = ...,
        client_id: Optional[str] = ...,
        client_secret: Optional[str] = ...,
        refresh_token: Optional[str] = ...,
        data_center: Optional[str] = ...,
        environment: Optional[str] = ...,
        api_version: Optional[str] = ...,
        base_url: Optional[str] = ...,
        accounts_url: Optional[str] = ...,
        connect_timeout: Optional[float] = ...,
        read_timeout: Optional[float] = ...,
        max_retries: Optional[int] = ...,
    ) -> Client: ...
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
    ) -> None: ...
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
