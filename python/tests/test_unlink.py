"""Client.unlink_many: the rows of a link job unlink its pairs (grouped by parent, `ids=` lists, a value with
`,` alone in the path), one outcome per row, the same options, progress and report as link_many."""

from __future__ import annotations

from typing import Dict, Iterator, List

import pytest

from zcrm_extid import BulkReport, Progress
from zcrm_extid.exceptions import InvalidInputError
from zcrm_extid.testing import Emulator

PARENT = "Contacts.External_Contact_ID"
RELATED = "Deals.External_Deal_ID"


def rows(n: int) -> List[Dict[str, object]]:
    return [{"contact": f"c{i % 3}", "deal": f"d{i}", "role": f"r{i}"} for i in range(n)]


def org(emu: Emulator, n: int) -> List[str]:
    contacts = emu.insert_records("Contacts", [{"External_Contact_ID": f"c{i}"} for i in range(3)])
    emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}"} for i in range(n)])
    emu.insert_records("Deals", [{"External_Deal_ID": "x,1"}])
    return contacts


def test_the_rows_of_a_link_job_unlink_its_pairs(zcrm_emulator):
    contacts = org(zcrm_emulator, 250)
    client = zcrm_emulator.client()
    kw = dict(parent=PARENT, related=RELATED, parent_column="contact", related_column="deal",
              fields={"Contact_Role": "role"}, extra="error")
    data = rows(250) + [{"contact": "c0", "deal": "x,1", "role": "r"}]
    # With extra="error", `fields` declares the role column as mapped: the same rows pass both jobs.
    assert client.link_many(data, **kw).summary.succeeded == 251
    zcrm_emulator.clear_journal()

    seen: List[Progress] = []
    keep = {f"d{i}" for i in range(0, 250, 10)}

    def generator() -> Iterator[Dict[str, object]]:
        for r in data:
            if r["deal"] not in keep:
                yield r

    report = client.unlink_many(generator(), on_progress=seen.append, progress_interval=0.0, **kw)
    assert isinstance(report, BulkReport)
    s = report.summary
    assert (s.rows, s.succeeded, s.failed) == (226, 226, 0)
    assert [o.row for o in report] == list(range(226))
    assert report[-1].key == "x,1" and report[-1].parent == "c0" and report[-1].ok
    assert seen and seen[-1].completed == 226
    deletes = [e for e in zcrm_emulator.journal() if e["method"] == "DELETE"]
    assert len(deletes) == s.calls == 4  # one ids= list per contact, and x,1 alone
    assert any(e["path"].endswith("/Deals/x%2C1") for e in deletes)
    assert all("ids=" in e["query"] for e in deletes if not e["path"].endswith("x%2C1"))
    remaining = {deal for c in contacts for deal, _ in zcrm_emulator.related("Contacts", c, "Deals")}
    assert len(remaining) == 25

    # Unlinking again: every pair is gone, so every row fails with Zoho's answer (not an exception).
    again = client.unlink_many(rows(4)[1:], **kw)  # d1, d2, d3 (d0 was kept)
    assert [o.code for o in again] == ["INVALID_DATA"] * 3
    assert again[0].message == "relation not found"


def test_bad_arguments_are_refused_before_anything_is_sent(zcrm_emulator):
    client = zcrm_emulator.client()
    with pytest.raises(InvalidInputError) as e:
        client.unlink_many([], parent="Contacts", related=RELATED)
    assert e.value.argument == "parent"
    with pytest.raises(InvalidInputError):
        client.unlink_many(5, parent=PARENT, related=RELATED)  # type: ignore[arg-type]
    report = client.unlink_many([{"External_Contact_ID": "c0"}], parent=PARENT, related=RELATED)
    assert report[0].code == "INVALID_INPUT" and "External_Deal_ID" in report[0].message
    assert [e for e in zcrm_emulator.journal() if e["method"] == "DELETE"] == []
