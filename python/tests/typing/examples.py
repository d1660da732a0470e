"""Idiomatic code that must type-check under `mypy --strict` (with pandas-stubs) against the package's stubs:
TypedDict records, pandas records, csv rows, the asyncio forms, the error fields. Lines with a `type: ignore`
must stay errors (`--strict` warns about an unused ignore): the types refuse what the package refuses."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Hashable
from typing import Any, TypedDict

import pandas as pd

from zcrm_extid import BulkReport, Client, External, RowOutcome, UpdateResult
from zcrm_extid.aio import AsyncClient
from zcrm_extid.exceptions import ConflictError, RateLimitedError, ZcrmError
from zcrm_extid.types import ErrorCategory


class DealLink(TypedDict, total=False):
    External_Deal_ID: str
    Contact_Role: str


def sync_forms(client: Client) -> None:
    records: list[DealLink] = [{"External_Deal_ID": "extdeal3"}, {"External_Deal_ID": "d2", "Contact_Role": "r"}]
    result: UpdateResult = client.update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals", records, related_field="External_Deal_ID"
    )
    print([(o.index, o.code, o.id) for o in result])

    frame_rows: list[dict[Hashable, Any]] = pd.DataFrame({"contact": ["c1"], "deal": ["d1"]}).to_dict("records")
    report: BulkReport = client.link_many(
        frame_rows,
        parent="Contacts.External_Contact_ID",
        related="Deals.External_Deal_ID",
        parent_column="contact",
        related_column="deal",
        edition="enterprise",
        extra="error",
        on_outcome=lambda o: print(o.row, o.code),
        keep_outcomes=False,
    )
    print(report.summary.succeeded)
    for outcome in client.iter_link_many(csv.DictReader(io.StringIO("a,b\n1,2\n")), parent="A.x", related="B.y"):
        print(outcome.row, outcome.outcome.code)

    try:
        client.delete_related("Contacts", "111111000000085009", "Deals", ["1", "2"])
    except ConflictError as e:
        print(e.details)
    except RateLimitedError as e:
        print(e.retryable, e.status)
    except ZcrmError as e:
        category: ErrorCategory = e.category
        if e.bulk_report is not None:
            print(category, e.bulk_report.summary.not_attempted)

    Client("1000.t", data_center="eu", environment="sandbox", api_version="v8")
    Client("1000.t", data_center="europe")  # type: ignore[arg-type]
    client.link_many(["not a row"], parent="A.x", related="B.y")  # type: ignore[list-item]


async def async_forms(client: AsyncClient) -> None:
    results = await asyncio.gather(*(client.get_related("Contacts", "1", "Deals", fields="Deal_Name") for _ in range(3)))
    print(sum(len(r) for r in results))

    async def rows() -> AsyncIterator[dict[str, str]]:
        yield {"External_Contact_ID": "c1", "External_Deal_ID": "d1"}

    seen: list[RowOutcome] = []
    await client.link_many(rows(), parent="Contacts.External_Contact_ID", related="Deals.External_Deal_ID",
                           on_outcome=seen.append)
    async for outcome in client.iter_link_many(rows(), parent="Contacts.External_Contact_ID",
                                               related="Deals.External_Deal_ID"):
        print(outcome.code)
    async for row in client.iter_related("Contacts", "1", "Deals", fields=["Deal_Name"]):
        print(row.id, row["Deal_Name"])
    await asyncio.wait_for(client.update_related("Contacts", "1", "Deals", [{"id": "2"}]), timeout=5)
