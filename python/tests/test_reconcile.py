"""Client.plan_links / Plan: the plan as data (changes, summary, diff, JSON), apply with progress returning the
report, the max_unlinks guard, a change between plan and apply, exceptions while planning."""

from __future__ import annotations

import json
from typing import Dict, Iterator, List, Tuple

import pytest

from zcrm_extid import BulkReport, Change, Plan, PlanProgress, PlanSummary, Progress
from zcrm_extid.exceptions import InvalidInputError
from zcrm_extid.testing import Emulator

PARENT = "Contacts.External_Contact_ID"
RELATED = "Deals.External_Deal_ID"
KW = dict(parent=PARENT, related=RELATED, parent_column="contact", related_column="deal", fields={"Contact_Role": "role"})


def org(emu: Emulator) -> List[str]:
    """Contacts c0..c2, deals d0..d9; c0: d0 (r1), d1 (r1), d2 (r1); c1: d3 (r1); c2: d4 (r1)."""
    contacts = emu.insert_records("Contacts", [{"External_Contact_ID": f"c{i}"} for i in range(3)])
    emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}"} for i in range(10)])
    start = [("c0", "d0"), ("c0", "d1"), ("c0", "d2"), ("c1", "d3"), ("c2", "d4")]
    rows = [{"contact": c, "deal": d, "role": "r1"} for c, d in start]
    assert emu.client().link_many(rows, **KW).summary.succeeded == 5
    emu.clear_journal()
    return contacts


def state(emu: Emulator, contacts: List[str]) -> Dict[int, Dict[str, object]]:
    deals = {r["id"]: r["External_Deal_ID"] for r in emu.state()["modules"]["Deals"]["records"]}  # type: ignore[index]
    return {i: {deals[d]: f.get("Contact_Role") for d, f in emu.related("Contacts", c, "Deals")} for i, c in enumerate(contacts)}


DESIRED = [
    {"contact": "c0", "deal": "d0", "role": "r1"},  # unchanged
    {"contact": "c0", "deal": "d1", "role": "r2"},  # update
    {"contact": "c0", "deal": "d5", "role": "r1"},  # link
    {"contact": "c1", "deal": "d6", "role": ""},  # link, no role; d3 unlinked
]


def writes(emu: Emulator) -> List[str]:
    return [str(e["method"]) for e in emu.journal() if e["method"] in ("PUT", "DELETE")]


def test_plan_review_json_apply_and_plan_again(zcrm_emulator):
    contacts = org(zcrm_emulator)
    client = zcrm_emulator.client()
    seen: List[PlanProgress] = []

    def rows() -> Iterator[Dict[str, str]]:
        yield from DESIRED

    plan = client.plan_links(rows(), unlink_missing=True, max_unlinks="50%", on_progress=seen.append, **KW)
    assert isinstance(plan, Plan) and writes(zcrm_emulator) == []
    s = plan.summary
    assert isinstance(s, PlanSummary)
    assert (s.parents, s.current_links, s.links, s.updates, s.unlinks, s.unchanged) == (2, 4, 2, 1, 2, 1)
    assert s.changes == len(plan) == 5 and not plan.is_empty
    assert seen and seen[-1].parents == 2 and seen[-1].read_calls == 2
    ops = [(c.op, c.parent, c.related) for c in plan]
    assert ops == [("update", "c0", "d1"), ("link", "c0", "d5"), ("unlink", "c0", "d2"), ("link", "c1", "d6"),
                   ("unlink", "c1", "d3")]
    update = plan[0]
    assert isinstance(update, Change)
    assert (update.fields, update.before, update.row) == ({"Contact_Role": "r2"}, {"Contact_Role": "r1"}, 1)
    assert plan[-1].before == {"Contact_Role": "r1"} and plan[-1].row is None and plan[-1].id
    text = plan.summary_text()
    assert "+ 2 to link" in text and "- 2 to unlink (max_unlinks 50%: 2 allowed)" in text, text
    assert str(plan) == text
    assert '~ c0  d1  Contact_Role: "r1" -> "r2"' in plan.diff().splitlines()

    saved = plan.to_json()
    assert json.loads(saved)["version"] == 1
    reviewed = client.load_plan(saved)
    assert [(c.op, c.related) for c in reviewed] == [(c.op, c.related) for c in plan]
    progress: List[Progress] = []
    report = reviewed.apply(on_progress=progress.append, progress_interval=0.0)
    assert isinstance(report, BulkReport)
    assert [o.row for o in report] == list(range(5)) and all(o.ok for o in report), list(report)
    assert report[0].parent == "c0" and report[0].key == "d1"
    assert progress and progress[-1].completed == 5
    assert state(zcrm_emulator, contacts) == {0: {"d0": "r1", "d1": "r2", "d5": "r1"}, 1: {"d6": None}, 2: {"d4": "r1"}}
    again = client.plan_links(DESIRED, unlink_missing=True, **KW)
    assert again.is_empty and len(again) == 0 and again.summary.unchanged == 4


def test_max_unlinks_refuses_the_plan_before_anything_is_sent(zcrm_emulator):
    org(zcrm_emulator)
    client = zcrm_emulator.client()
    plan = client.plan_links(DESIRED, unlink_missing=True, max_unlinks=1, **KW)
    assert plan.max_unlinks == "1" and "NOT be applied" in plan.summary_text()
    zcrm_emulator.clear_journal()
    with pytest.raises(InvalidInputError) as e:
        plan.apply()
    assert e.value.argument == "max_unlinks" and "unlinks 2" in str(e.value)
    assert zcrm_emulator.journal() == []
    assert len(plan.apply(max_unlinks="100%")) == 5  # a new guard at apply time
    with pytest.raises(InvalidInputError) as e:
        client.plan_links(DESIRED, max_unlinks="lots", **KW)
    assert e.value.argument == "max_unlinks"


def test_a_parent_changed_since_planning_is_refused(zcrm_emulator):
    contacts = org(zcrm_emulator)
    client = zcrm_emulator.client()
    plan = client.plan_links(DESIRED, unlink_missing=True, **KW)
    client.link_many([{"contact": "c1", "deal": "d9", "role": "x"}], **KW)  # someone links a deal to c1 meanwhile
    report = plan.apply()
    codes: List[Tuple[str, str]] = [(o.parent, o.code) for o in report]
    assert codes == [("c0", "SUCCESS")] * 3 + [("c1", "CHANGED_SINCE_PLANNING")] * 2
    assert report[3].details["links_now"] == 2 and report[3].attempts == 0
    assert report.summary.failed == 2
    assert state(zcrm_emulator, contacts)[1] == {"d3": "r1", "d9": "x"}, "nothing sent for c1"


def test_an_exception_while_planning_is_raised_and_no_plan_is_returned(zcrm_emulator):
    org(zcrm_emulator)
    client = zcrm_emulator.client()

    def rows() -> Iterator[Dict[str, str]]:
        yield DESIRED[0]
        raise KeyError("export broke")

    with pytest.raises(KeyError):
        client.plan_links(rows(), unlink_missing=True, **KW)

    def boom(p: PlanProgress) -> None:
        raise RuntimeError("progress broke")

    with pytest.raises(RuntimeError):
        client.plan_links(DESIRED, on_progress=boom, progress_interval=0.0, **KW)
    with pytest.raises(InvalidInputError):
        client.load_plan('{"format": "zcrm-extid.plan", "version": 2}')
    bad = client.plan_links(DESIRED + [{"contact": "c0"}], unlink_missing=True, **KW)
    assert bad.invalid == [(4, "row[4].deal", 'column "deal" is missing')]
    assert bad.summary.unlinks == 0 and bad.summary.withheld_unlinks == 2
