"""zcrm_extid: link Zoho CRM related records by external ID ("Update Related Records Using External ID").

A thin Python face of the Rust core: every rule (URL, ``X-EXTERNAL`` header, validation, retries, token
refresh, error classification) lives there; calls release the GIL.

::

    from zcrm_extid import Client, External

    client = Client(client_id="1000.X", client_secret="...", refresh_token="1000.r...", data_center="eu")
    result = client.update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
        [{"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}],
        related_field="External_Deal_ID",
    )
    for outcome in result:
        print(outcome.index, outcome.code, outcome.id)

Read and unlink: :meth:`Client.get_related`, :meth:`Client.iter_related` (every page, one in memory),
:meth:`Client.delete_related`. Records by external ID: :meth:`Client.get_records`, :meth:`Client.iter_records`,
:meth:`Client.insert_records`, :meth:`Client.update_records`, :meth:`Client.upsert_records`,
:meth:`Client.delete_records`, :meth:`Client.search_records`. Many rows at the API's limit: :meth:`Client.link_many` (a report, or
``on_outcome`` as outcomes come), :meth:`Client.iter_link_many` (an iterator of outcomes as they come),
:meth:`Client.upsert_many` (records of a data frame or CSV by external ID), :meth:`Client.unlink_many`. Keep
links equal to a desired set, with a plan first: :meth:`Client.plan_links`.
asyncio: :class:`zcrm_extid.aio.AsyncClient` (the same methods as awaitables, cancelled with their task).
Offline: :func:`prepare_update_related`, ``PreparedRequest.to_curl()``, :func:`parse_outcomes`,
:func:`parse_related`. Errors: :mod:`zcrm_extid.exceptions`. Setting values: :mod:`zcrm_extid.types`. A local
emulator and a pytest fixture: :mod:`zcrm_extid.testing`.

**Pickling** (for a ``multiprocessing`` pool of workers): a client made by :meth:`Client.from_env` pickles as
that call (its non-secret settings); each process reads the credentials from its own environment, so no secret
is ever in the pickle. Any other client raises ``TypeError`` when pickled: make it with ``from_env``, or create
one per process (a ``Pool`` initializer).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import exceptions, types
from ._native import (
    BulkReport,
    BulkSummary,
    Change,
    Client,
    JobMetrics,
    Outcome,
    OutcomeStream,
    PageInfo,
    Plan,
    PlanProgress,
    PlanSummary,
    PreparedRequest,
    Progress,
    RecordIterator,
    RecordOutcome,
    RecordsPage,
    RecordsResult,
    RelatedIterator,
    RelatedResult,
    RelatedRow,
    RowOutcome,
    UpdateResult,
    error_codes,
    error_from_code,
    parse_outcomes,
    parse_related,
    prepare_update_related,
    settings_choices,
)
from ._native import __version__ as __version__
from .exceptions import (
    ApiError,
    AuthError,
    InvalidConfigError,
    InvalidInputError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    ZcrmError,
)

__all__ = [
    "ApiError",
    "AuthError",
    "BulkReport",
    "BulkSummary",
    "Change",
    "Client",
    "External",
    "InvalidConfigError",
    "InvalidInputError",
    "JobMetrics",
    "Outcome",
    "OutcomeStream",
    "PageInfo",
    "Plan",
    "PlanProgress",
    "PlanSummary",
    "PreparedRequest",
    "Progress",
    "RecordIterator",
    "RecordOutcome",
    "RecordsPage",
    "RecordsResult",
    "RelatedIterator",
    "RelatedResult",
    "RelatedRow",
    "RowOutcome",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "UpdateResult",
    "ZcrmError",
    "__version__",
    "error_codes",
    "error_from_code",
    "exceptions",
    "parse_outcomes",
    "parse_related",
    "prepare_update_related",
    "settings_choices",
    "types",
]


@dataclass(frozen=True)
class External:
    """A parent record addressed by the value of one of its module's external fields.

    ``External("External_Contact_ID", "extcontact3")`` puts ``extcontact3`` in the URL and
    ``Contacts.External_Contact_ID`` in ``X-EXTERNAL``. Pass a plain ``str`` for a Zoho record id instead.
    The core validates both parts when the request is built.
    """

    field: str
    value: str
