"""asyncio forms of the client: :class:`AsyncClient` has the methods of :class:`zcrm_extid.Client` as
awaitables, for FastAPI, aiohttp and other asyncio services.

::

    from zcrm_extid import External
    from zcrm_extid.aio import AsyncClient

    client = AsyncClient.from_env()
    result = await client.update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
        [{"External_Deal_ID": "extdeal3"}], related_field="External_Deal_ID",
    )
    async for outcome in client.iter_link_many(rows, parent="Contacts.External_Contact_ID",
                                                related="Deals.External_Deal_ID"):
        print(outcome.row, outcome.code)      # as each call completes

**Never blocking the event loop.** Each awaitable runs the client's method on a thread of the module's own pool
(an idle thread, or a new one when all are busy: not the loop's default executor, whose few threads would make
100 concurrent calls wait for each other, and never waiting for a thread to start); the method releases the GIL
while the core works, so the loop keeps running, and 100 concurrent awaits of calls that each take one latency
finish in about one latency.

**Cancellation.** Cancelling the task (``task.cancel()``, ``asyncio.wait_for``/``asyncio.timeout`` expiring)
cancels the call through the core's ``Cancel``: no further attempt is made (an attempt on the wire finishes in
the background; the PUT is idempotent), a bulk job stops sending and lets its calls in flight finish (its rows
not sent are ``NOT_ATTEMPTED``). The task itself ends at once with ``asyncio.CancelledError``.

**Bulk jobs** (``link_many``, ``upsert_many``, ``unlink_many``, ``plan_links``) take any iterable of mappings or
any async iterable (an async generator, an ``aiofiles``/``aiocsv`` reader): rows are read a chunk at a time, only
as the job has room. ``on_progress`` and ``on_outcome`` are called on the event loop's thread; if one raises, the
job stops and the exception is raised with ``bulk_report`` (``plan_links`` raises it without a plan).
:meth:`AsyncClient.iter_link_many` is the async iterator of outcomes as they complete (the job waits when the
consumer falls behind; leaving the loop early, or cancelling the task, stops the job).

An ``AsyncClient`` pickles like its :class:`~zcrm_extid.Client` (``AsyncClient.from_env(...)`` clients only).
"""

from __future__ import annotations

import _thread
import asyncio
import collections.abc
import concurrent.futures
import queue
import threading
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

from . import External
from ._native import (
    BulkReport,
    CancelScope,
    Client,
    Plan,
    PlanProgress,
    PreparedRequest,
    Progress,
    RecordsPage,
    RecordsResult,
    RelatedResult,
    RelatedRow,
    RowOutcome,
    UpdateResult,
)
from .types import ApiVersion, DataCenter, Edition, Environment, Extra, Row

if TYPE_CHECKING:
    from ._native import _Json

__all__ = ["AsyncClient"]

T = TypeVar("T")

_Parent = Union[str, int, External]
_Value = Union[str, int]
_Values = Union[str, int, Iterable[_Value]]
_Fields = Union[str, Iterable[str]]
_LinkFields = Union[str, Mapping[str, str], Sequence[Union[str, Tuple[str, str]]], None]
_Rows = Union[Iterable[Row], AsyncIterable[Row]]
_Address = Union[str, int]
_Addresses = Union[_Address, Iterable[_Address]]
_Strings = Union[str, Iterable[str]]
_Columns = Union[str, Mapping[str, str], Sequence[Union[str, Tuple[str, str]]], None]
_Limit = Union[int, str, None]

#: Rows read from an async iterable per trip to the event loop.
_CHUNK = 256
#: Items a stream keeps between its thread and the consumer before its thread waits.
_BUFFER = 256


#: Seconds a pool thread waits for work before it ends.
_IDLE = 30.0


class _Workers:
    """The threads awaitables run on: a job goes to an idle thread, or to a new one when none is idle. Submitting
    never waits (a thread is started with ``_thread.start_new_thread``, which does not wait for it to run, unlike
    ``Thread.start``); a thread idle for 30 s ends. The threads do not keep the interpreter from exiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # that idle thread takes a job from the queue
        self._jobs.put(job)
        if spawn:
            _thread.start_new_thread(self._work, ())

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=_IDLE)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:
                        self._idle -= 1
                        return
                continue  # a job was handed to this thread as it timed out
            job()
            with self._lock:
                self._idle += 1


_workers = _Workers()


def _deliver(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object) -> None:
    """``callback(*args)`` on the loop's thread; nothing if the loop is closed (nobody is waiting any more)."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        pass


async def _call(scope: CancelScope, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs ``fn(*args, **kwargs)`` on a new thread inside ``scope``; cancelling the awaiting task cancels the
    scope (and so the core's call)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: Optional[BaseException]) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            with scope:
                result = fn(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting task, whatever it is
            _deliver(loop, settle, None, error)
        else:
            _deliver(loop, settle, result, None)

    _workers.submit(work)
    try:
        return await future
    except asyncio.CancelledError:
        scope.cancel()
        raise


class _Stream(AsyncIterator[T]):
    """An async iterator over the sync iterator ``make()`` returns, iterated on a thread of its own inside a
    ``CancelScope``, with at most ``_BUFFER`` items waiting for the consumer (the thread waits beyond that)."""

    def __init__(self, make: Callable[[CancelScope, asyncio.AbstractEventLoop], Iterator[T]]) -> None:
        self._make = make
        self._scope = CancelScope()
        self._queue: queue.Queue[Tuple[str, Any]] = queue.Queue(maxsize=_BUFFER)
        self._ready: Optional[asyncio.Event] = None
        self._closed = False
        self._finished = False

    def _start(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        self._ready = ready

        def put(item: Tuple[str, Any]) -> None:
            while not self._closed:
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            _deliver(loop, ready.set)

        def work() -> None:
            try:
                with self._scope:
                    iterator = self._make(self._scope, loop)
                    try:
                        for item in iterator:
                            if self._closed:
                                break
                            put(("item", item))
                    finally:
                        close = getattr(iterator, "close", None)
                        if close is not None:
                            close()
            except BaseException as error:  # noqa: BLE001 - raised by the consumer's __anext__
                put(("error", error))
            else:
                put(("done", None))

        _workers.submit(work)
        return ready

    def __aiter__(self) -> _Stream[T]:
        return self

    async def __anext__(self) -> T:
        if self._finished:
            raise StopAsyncIteration
        ready = self._ready if self._ready is not None else self._start()
        try:
            while True:
                try:
                    kind, value = self._queue.get_nowait()
                except queue.Empty:
                    ready.clear()
                    if self._queue.empty():
                        await ready.wait()
                    continue
                if kind == "item":
                    return value  # type: ignore[no-any-return]
                self._finished = True
                if kind == "error":
                    raise value
                raise StopAsyncIteration
        except asyncio.CancelledError:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stops the iteration (and the job or the paging behind it); items not read are dropped."""
        self._closed = True
        self._finished = True
        self._scope.cancel()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break


class _RowsFromAsync(Iterator[Row]):
    """A sync iterator over an async iterable of rows, for a job's thread: each chunk of ``_CHUNK`` rows is read
    on the event loop; waiting for one ends (the input ends there) when the job's scope is cancelled."""

    def __init__(self, rows: AsyncIterable[Row], loop: asyncio.AbstractEventLoop, scope: CancelScope) -> None:
        self._rows = rows.__aiter__()
        self._loop = loop
        self._scope = scope
        self._buffer: List[Row] = []
        self._done = False

    async def _chunk(self) -> Tuple[List[Row], bool]:
        chunk: List[Row] = []
        while len(chunk) < _CHUNK:
            try:
                chunk.append(await self._rows.__anext__())
            except StopAsyncIteration:
                return chunk, True
        return chunk, False

    def __next__(self) -> Row:
        while not self._buffer:
            if self._done:
                raise StopIteration
            pending = asyncio.run_coroutine_threadsafe(self._chunk(), self._loop)
            while True:
                try:
                    chunk, self._done = pending.result(timeout=0.1)
                    break
                except concurrent.futures.TimeoutError:
                    if pending.done():  # the async iterable itself raised a TimeoutError
                        self._done = True
                        raise
                    if self._scope.cancelled:
                        pending.cancel()
                        raise StopIteration from None
                except BaseException:
                    # The async iterable raised: the job stops, and `link_many` raises it with bulk_report.
                    self._done = True
                    raise
            self._buffer.extend(reversed(chunk))
        return self._buffer.pop()


def _rows_for(rows: _Rows, scope: CancelScope, loop: asyncio.AbstractEventLoop) -> Iterable[Row]:
    """``rows`` as a job's thread reads them: an async iterable through the event loop, a chunk at a time."""
    if isinstance(rows, collections.abc.AsyncIterable):
        return _RowsFromAsync(rows, loop, scope)
    return rows


class _OnLoop:
    """A job's callbacks called on the event loop; the first exception one raises stops the job."""

    def __init__(self, scope: CancelScope) -> None:
        self._loop = asyncio.get_running_loop()
        self._scope = scope
        self.error: Optional[BaseException] = None

    def wrap(self, callback: Optional[Callable[[Any], object]]) -> Optional[Callable[[Any], None]]:
        if callback is None:
            return None
        user = callback

        def on_loop(value: Any) -> None:
            if self.error is not None:
                return
            try:
                user(value)
            except BaseException as error:  # noqa: BLE001 - raised by the awaiting task
                self.error = error
                self._scope.cancel()

        def from_thread(value: Any) -> None:
            _deliver(self._loop, on_loop, value)

        return from_thread

    def report(self, report: BulkReport) -> BulkReport:
        """``report``, or the first exception a callback raised, with ``report`` as its ``bulk_report``. Every
        callback was scheduled on the loop before the job's result: they have all run by now."""
        if self.error is not None:
            error = self.error
            try:
                setattr(error, "bulk_report", report)
            except AttributeError:
                pass
            raise error
        return report


class AsyncClient:
    """A Zoho CRM client whose I/O methods are awaitables (see :mod:`zcrm_extid.aio`). Same arguments as
    :class:`zcrm_extid.Client`; share one per process (its calls share the keep-alive pool and the token)."""

    def __init__(
        self,
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
    ) -> None:
        self._client = Client(
            access_token,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            data_center=data_center,
            environment=environment,
            api_version=api_version,
            base_url=base_url,
            accounts_url=accounts_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_retries=max_retries,
            proxy=proxy,
            budget=budget,
            budget_prefix=budget_prefix,
            on_redis_error=on_redis_error,
            budget_concurrency=budget_concurrency,
            daily_credits=daily_credits,
        )

    @classmethod
    def from_client(cls, client: Client) -> AsyncClient:
        """The awaitable face of an existing ``client`` (they share connections and the token)."""
        instance = cls.__new__(cls)
        instance._client = client
        return instance

    @classmethod
    def from_env(
        cls,
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
    ) -> AsyncClient:
        """:meth:`zcrm_extid.Client.from_env`, awaitable: credentials from the environment (and it pickles)."""
        return cls.from_client(
            Client.from_env(
                data_center=data_center,
                environment=environment,
                api_version=api_version,
                base_url=base_url,
                accounts_url=accounts_url,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_retries=max_retries,
                proxy=proxy,
            )
        )

    @property
    def sync(self) -> Client:
        """The underlying blocking :class:`~zcrm_extid.Client`."""
        return self._client

    @property
    def base_url(self) -> str:
        """Where API calls go."""
        return self._client.base_url

    @property
    def api_version(self) -> str:
        """The API version in every path."""
        return self._client.api_version

    def __reduce__(self) -> Tuple[Callable[[Client], AsyncClient], Tuple[Client]]:
        return (AsyncClient.from_client, (self._client,))

    def __repr__(self) -> str:
        return f"Async{self._client!r}"

    async def update_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        records: Iterable[Row],
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> UpdateResult:
        """:meth:`zcrm_extid.Client.update_related`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.update_related,
            module,
            parent,
            related_list,
            records,
            related_field=related_field,
            related_module=related_module,
        )

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
        """The request ``update_related`` would send (no I/O, so not awaitable)."""
        return self._client.prepare_update_related(
            module, parent, related_list, records, related_field=related_field, related_module=related_module
        )

    async def get_related(
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
        if_modified_since: Optional[Any] = None,
    ) -> RelatedResult:
        """:meth:`zcrm_extid.Client.get_related`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.get_related,
            module,
            parent,
            related_list,
            fields=fields,
            related=related,
            ids=ids,
            related_field=related_field,
            related_module=related_module,
            page=page,
            per_page=per_page,
            page_token=page_token,
            if_modified_since=if_modified_since,
        )

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
        if_modified_since: Optional[Any] = None,
    ) -> AsyncIterator[RelatedRow]:
        """Every related record, page after page: ``async for row in client.iter_related(...)``. Invalid
        arguments raise here, before anything is sent; pages are fetched on a thread of the iterator's own."""
        rows = self._client.iter_related(
            module,
            parent,
            related_list,
            fields=fields,
            ids=ids,
            related_field=related_field,
            related_module=related_module,
            page=page,
            per_page=per_page,
            page_token=page_token,
            if_modified_since=if_modified_since,
        )
        return _Stream(lambda _scope, _loop: rows)

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
        if_modified_since: Optional[Any] = None,
    ) -> PreparedRequest:
        """The request ``get_related`` would send (no I/O, so not awaitable)."""
        return self._client.prepare_get_related(
            module,
            parent,
            related_list,
            fields=fields,
            related=related,
            ids=ids,
            related_field=related_field,
            related_module=related_module,
            page=page,
            per_page=per_page,
            page_token=page_token,
            if_modified_since=if_modified_since,
        )

    async def delete_related(
        self,
        module: str,
        parent: _Parent,
        related_list: str,
        values: _Values,
        *,
        related_field: Optional[str] = None,
        related_module: Optional[str] = None,
    ) -> UpdateResult:
        """:meth:`zcrm_extid.Client.delete_related`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.delete_related,
            module,
            parent,
            related_list,
            values,
            related_field=related_field,
            related_module=related_module,
        )

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
        """The request ``delete_related`` would send (no I/O, so not awaitable)."""
        return self._client.prepare_delete_related(
            module, parent, related_list, values, related_field=related_field, related_module=related_module
        )

    async def link_many(
        self,
        rows: _Rows,
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
        reserve: _Limit = None,
    ) -> BulkReport:
        """:meth:`zcrm_extid.Client.link_many`, awaitable and cancellable: ``rows`` may also be an async
        iterable; ``on_progress`` and ``on_outcome`` are called on the event loop."""
        scope = CancelScope()
        callbacks = _OnLoop(scope)
        report = await _call(
            scope,
            self._client.link_many,
            _rows_for(rows, scope, asyncio.get_running_loop()),
            parent=parent,
            related=related,
            related_list=related_list,
            parent_column=parent_column,
            related_column=related_column,
            fields=fields,
            extra=extra,
            concurrency=concurrency,
            edition=edition,
            batch_size=batch_size,
            window=window,
            adaptive=adaptive,
            on_progress=callbacks.wrap(on_progress),
            progress_interval=progress_interval,
            on_outcome=callbacks.wrap(on_outcome),
            keep_outcomes=keep_outcomes,
            reserve=reserve,
        )
        return callbacks.report(report)

    def iter_link_many(
        self,
        rows: _Rows,
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
        reserve: _Limit = None,
    ) -> AsyncIterator[RowOutcome]:
        """:meth:`zcrm_extid.Client.iter_link_many` as an async iterator: ``async for outcome in ...``, each
        outcome as its call completes. ``rows`` may be an async iterable; ``on_progress`` is called on the job's
        thread. Leaving the loop early (``aclose()``, ``break`` then dropping it, or a cancelled task) stops the
        job."""

        def make(scope: CancelScope, loop: asyncio.AbstractEventLoop) -> Iterator[RowOutcome]:
            return self._client.iter_link_many(
                _rows_for(rows, scope, loop),
                parent=parent,
                related=related,
                related_list=related_list,
                parent_column=parent_column,
                related_column=related_column,
                fields=fields,
                extra=extra,
                concurrency=concurrency,
                edition=edition,
                batch_size=batch_size,
                window=window,
                adaptive=adaptive,
                on_progress=on_progress,
                progress_interval=progress_interval,
                reserve=reserve,
            )

        return _Stream(make)

    async def upsert_many(
        self,
        rows: _Rows,
        *,
        module: str,
        key: str,
        lookups: Optional[Mapping[str, str]] = None,
        columns: _Columns = None,
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
        reserve: _Limit = None,
    ) -> BulkReport:
        """:meth:`zcrm_extid.Client.upsert_many`, awaitable and cancellable: ``rows`` may also be an async
        iterable; ``on_progress`` and ``on_outcome`` are called on the event loop."""
        scope = CancelScope()
        callbacks = _OnLoop(scope)
        report = await _call(
            scope,
            self._client.upsert_many,
            _rows_for(rows, scope, asyncio.get_running_loop()),
            module=module,
            key=key,
            lookups=lookups,
            columns=columns,
            skip=skip,
            duplicate_check_fields=duplicate_check_fields,
            external_fields=external_fields,
            concurrency=concurrency,
            edition=edition,
            batch_size=batch_size,
            window=window,
            adaptive=adaptive,
            on_progress=callbacks.wrap(on_progress),
            progress_interval=progress_interval,
            on_outcome=callbacks.wrap(on_outcome),
            keep_outcomes=keep_outcomes,
            reserve=reserve,
        )
        return callbacks.report(report)

    async def unlink_many(
        self,
        rows: _Rows,
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
        reserve: _Limit = None,
    ) -> BulkReport:
        """:meth:`zcrm_extid.Client.unlink_many`, awaitable and cancellable: ``rows`` may also be an async
        iterable; ``on_progress`` and ``on_outcome`` are called on the event loop."""
        scope = CancelScope()
        callbacks = _OnLoop(scope)
        report = await _call(
            scope,
            self._client.unlink_many,
            _rows_for(rows, scope, asyncio.get_running_loop()),
            parent=parent,
            related=related,
            related_list=related_list,
            parent_column=parent_column,
            related_column=related_column,
            fields=fields,
            extra=extra,
            concurrency=concurrency,
            edition=edition,
            batch_size=batch_size,
            window=window,
            adaptive=adaptive,
            on_progress=callbacks.wrap(on_progress),
            progress_interval=progress_interval,
            on_outcome=callbacks.wrap(on_outcome),
            keep_outcomes=keep_outcomes,
            reserve=reserve,
        )
        return callbacks.report(report)

    async def plan_links(
        self,
        rows: _Rows,
        *,
        parent: str,
        related: str,
        fields: _LinkFields = None,
        unlink_missing: Optional[bool] = None,
        max_unlinks: _Limit = None,
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
        """:meth:`zcrm_extid.Client.plan_links`, awaitable and cancellable: ``rows`` may also be an async
        iterable; ``on_progress`` is called on the event loop (if it raises, planning stops and that exception
        is raised: no plan of part of the input is returned). The plan's ``apply`` blocks: run it with
        ``await asyncio.to_thread(plan.apply)``."""
        scope = CancelScope()
        callbacks = _OnLoop(scope)
        try:
            plan = await _call(
                scope,
                self._client.plan_links,
                _rows_for(rows, scope, asyncio.get_running_loop()),
                parent=parent,
                related=related,
                fields=fields,
                unlink_missing=unlink_missing,
                max_unlinks=max_unlinks,
                related_list=related_list,
                parent_column=parent_column,
                related_column=related_column,
                extra=extra,
                concurrency=concurrency,
                edition=edition,
                window=window,
                on_progress=callbacks.wrap(on_progress),
                progress_interval=progress_interval,
            )
        except Exception:
            # The callback's exception cancelled planning: it, not the cancellation, is what the caller sees.
            if callbacks.error is not None:
                raise callbacks.error from None
            raise
        if callbacks.error is not None:
            raise callbacks.error
        return plan

    def load_plan(self, text: str) -> Plan:
        """A plan saved with ``Plan.to_json()`` (no I/O, so not awaitable)."""
        return self._client.load_plan(text)

    async def get_records(
        self,
        module: str,
        ids: Optional[_Addresses] = None,
        *,
        key: Optional[str] = None,
        fields: Optional[_Strings] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
    ) -> RecordsPage:
        """:meth:`zcrm_extid.Client.get_records`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.get_records,
            module,
            ids,
            key=key,
            fields=fields,
            page=page,
            per_page=per_page,
            page_token=page_token,
        )

    def iter_records(
        self,
        module: str,
        ids: Optional[_Addresses] = None,
        *,
        key: Optional[str] = None,
        fields: Optional[_Strings] = None,
        per_page: Optional[int] = None,
    ) -> AsyncIterator[dict[str, _Json]]:
        """Every record of a read, page after page: ``async for record in client.iter_records(...)``. Invalid
        arguments raise here, before anything is sent; pages are fetched on a thread of the iterator's own."""
        records = self._client.iter_records(module, ids, key=key, fields=fields, per_page=per_page)
        return _Stream(lambda _scope, _loop: records)

    async def insert_records(
        self, module: str, records: Iterable[Row], *, external_fields: Optional[_Strings] = None
    ) -> RecordsResult:
        """:meth:`zcrm_extid.Client.insert_records`, awaitable and cancellable."""
        return await _call(
            CancelScope(), self._client.insert_records, module, records, external_fields=external_fields
        )

    async def update_records(
        self,
        module: str,
        records: Iterable[Row],
        *,
        key: Optional[str] = None,
        id: Optional[_Address] = None,
        external_fields: Optional[_Strings] = None,
    ) -> RecordsResult:
        """:meth:`zcrm_extid.Client.update_records`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.update_records,
            module,
            records,
            key=key,
            id=id,
            external_fields=external_fields,
        )

    async def upsert_records(
        self,
        module: str,
        records: Iterable[Row],
        *,
        duplicate_check_fields: Optional[_Strings] = None,
        external_fields: Optional[_Strings] = None,
    ) -> RecordsResult:
        """:meth:`zcrm_extid.Client.upsert_records`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.upsert_records,
            module,
            records,
            duplicate_check_fields=duplicate_check_fields,
            external_fields=external_fields,
        )

    async def delete_records(self, module: str, ids: _Addresses, *, key: Optional[str] = None) -> RecordsResult:
        """:meth:`zcrm_extid.Client.delete_records`, awaitable and cancellable."""
        return await _call(CancelScope(), self._client.delete_records, module, ids, key=key)

    async def search_records(
        self,
        module: str,
        values: _Strings,
        *,
        key: str,
        fields: Optional[_Strings] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
    ) -> RecordsPage:
        """:meth:`zcrm_extid.Client.search_records`, awaitable and cancellable."""
        return await _call(
            CancelScope(),
            self._client.search_records,
            module,
            values,
            key=key,
            fields=fields,
            page=page,
            per_page=per_page,
        )

    def prepare_records(
        self,
        operation: str,
        module: str,
        *,
        records: Optional[Iterable[Row]] = None,
        key: Optional[str] = None,
        id: Optional[_Address] = None,
        ids: Optional[_Addresses] = None,
        values: Optional[_Strings] = None,
        fields: Optional[_Strings] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        page_token: Optional[str] = None,
        external_fields: Optional[_Strings] = None,
        duplicate_check_fields: Optional[_Strings] = None,
    ) -> PreparedRequest:
        """The request a records call would send (no I/O, so not awaitable)."""
        return self._client.prepare_records(
            operation,
            module,
            records=records,
            key=key,
            id=id,
            ids=ids,
            values=values,
            fields=fields,
            page=page,
            per_page=per_page,
            page_token=page_token,
            external_fields=external_fields,
            duplicate_check_fields=duplicate_check_fields,
        )
