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
:meth:`Client.delete_related`. Many rows at the API's limit: :meth:`Client.link_many`. Offline: :func:`prepare_update_related` and
``PreparedRequest.to_curl()``. Errors: :mod:`zcrm_extid.exceptions`. A local emulator and a pytest fixture:
:mod:`zcrm_extid.testing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import exceptions
from ._native import (
    BulkReport,
    BulkSummary,
    Client,
    JobMetrics,
    Outcome,
    PageInfo,
    PreparedRequest,
    Progress,
    RelatedIterator,
    RelatedResult,
    RelatedRow,
    RowOutcome,
    UpdateResult,
    prepare_update_related,
)
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
    "Client",
    "External",
    "InvalidConfigError",
    "InvalidInputError",
    "JobMetrics",
    "Outcome",
    "PageInfo",
    "PreparedRequest",
    "Progress",
    "RelatedIterator",
    "RelatedResult",
    "RelatedRow",
    "RowOutcome",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "UpdateResult",
    "ZcrmError",
    "exceptions",
    "prepare_update_related",
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
