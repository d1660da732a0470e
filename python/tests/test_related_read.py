"""Reading and unlinking related records against the emulator over HTTP: the documented samples of spec §2.1 and
§2.2 as sent (journal) and answered, 1,000 related records by page token (v8) and by page (v5), 204 and 304,
`fields` missing refused before anything is sent, deletes (single, list, 207), and hostile external values."""

from __future__ import annotations

import datetime
import json
import pathlib
from typing import Any, List, Tuple

import pytest
from conftest import CONTACT

from zcrm_extid import External, PageInfo, RelatedIterator, RelatedResult, RelatedRow
from zcrm_extid.exceptions import InvalidInputError, LimitExceededError
from zcrm_extid.testing import Emulator

SAMPLES_SEED = json.loads(
    (pathlib.Path(__file__).resolve().parents[2] / "crates/zcrm-emulator/seeds/related-samples.json").read_text("utf-8")
)
CONTACT_EXT = External("External_Contact_ID", "extcontact3")


@pytest.fixture
def samples():
    with Emulator(seed=SAMPLES_SEED) as emu:
        yield emu


def api_calls(emu: Emulator) -> List[Tuple[str, str, Any]]:
    out = []
    for e in emu.journal():
        if e["path"].startswith("/crm/"):
            target = e["path"] + ("?" + e["query"] if e["query"] else "")
            header = next((v for n, v in e["headers"] if n == "x-external"), None)
            out.append((e["method"], target, header))
    return out


def test_the_documented_list_sample(samples):
    client = samples.client(api_version="v7")
    result = client.get_related(
        "Contacts", External("External_Contact_ID", "583472934"), "Deals", fields=["Closing_Date", "Stage", "Account_Name"]
    )
    assert api_calls(samples) == [
        ("GET", "/crm/v7/Contacts/583472934/Deals?fields=Closing_Date,Stage,Account_Name", "Contacts.External_Contact_ID")
    ]
    assert isinstance(result, RelatedResult) and (result.status, len(result), result.not_modified) == (200, 1, False)
    row = result[0]
    assert isinstance(row, RelatedRow) and row.id == "4876876000002095001"
    assert row.fields == {
        "Contact_Role": 11112748204747392,
        "Stage": "Closed Won",
        "Account_Name": {"name": "Chapman", "id": "4876876000001036013"},
        "Closing_Date": "2022-08-09",
    }
    assert row["Stage"] == "Closed Won" and row["id"] == row.id
    with pytest.raises(KeyError):
        row["Nope"]
    info = result.info
    assert isinstance(info, PageInfo)
    assert (info.per_page, info.count, info.page, info.more_records) == (200, 1, 1, False)
    assert (info.next_page_token, info.previous_page_token, info.page_token_expiry) == (None, None, None)


def test_the_documented_single_record_sample(samples):
    client = samples.client(api_version="v7")
    result = client.get_related("Contacts", CONTACT_EXT, "Deals", related="externaldeal3", related_field="External_Deal_ID")
    assert api_calls(samples) == [
        ("GET", "/crm/v7/Contacts/extcontact3/Deals/externaldeal3", "Deals.External_Deal_ID,Contacts.External_Contact_ID")
    ]
    assert result.info is None
    assert [(r.id, r.fields) for r in result] == [
        ("111111000000094028", {"Contact_Role": "111111000000026002", "External_Deal_ID": "externaldeal3"})
    ]


def test_the_documented_delete_sample_sends_both_pairs(samples):
    client = samples.client(api_version="v8")
    result = client.delete_related("Contacts", CONTACT_EXT, "Deals", "extdeal3", related_field="External_Deal_ID")
    assert api_calls(samples) == [
        ("DELETE", "/crm/v8/Contacts/extcontact3/Deals/extdeal3", "Contacts.External_Contact_ID,Deals.External_Deal_ID")
    ]
    o = result[0]
    assert (result.status, o.code, o.message, o.id) == (200, "SUCCESS", "relation removed", "111111000000094040")
    assert len(samples.related("Contacts", CONTACT, "Deals")) == 1


def link_deals(emu: Emulator, n: int) -> None:
    emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}"} for i in range(n)])
    client = emu.client()
    for start in range(0, n, 100):
        records = [{"External_Deal_ID": f"d{i}"} for i in range(start, min(n, start + 100))]
        assert client.update_related("Contacts", CONTACT_EXT, "Deals", records, related_field="External_Deal_ID").all_succeeded
    emu.clear_journal()


@pytest.mark.parametrize("version, paging", [("v8", "page_token="), ("v5", "page=")])
def test_one_thousand_related_records_every_one_once_in_order(zcrm_emulator, version, paging):
    link_deals(zcrm_emulator, 1000)
    client = zcrm_emulator.client(api_version=version)
    rows = client.iter_related("Contacts", CONTACT_EXT, "Deals", fields="External_Deal_ID")
    assert isinstance(rows, RelatedIterator)
    names = [row["External_Deal_ID"] for row in rows]
    assert names == [f"d{i}" for i in range(999, -1, -1)]
    assert rows.pages_fetched == 5
    targets = [c[1] for c in api_calls(zcrm_emulator)]
    assert len(targets) == 5 and all(paging in t for t in targets[1:]), targets


def test_an_error_while_paging_is_raised_by_the_iterator(zcrm_emulator):
    link_deals(zcrm_emulator, 2001)
    rows = zcrm_emulator.client(api_version="v5").iter_related("Contacts", CONTACT_EXT, "Deals", fields="Deal_Name")
    got = 0
    with pytest.raises(LimitExceededError) as e:
        for _ in rows:
            got += 1
    assert got == 2000 and "v7 or v8" in (e.value.hint or "")


def test_no_content_and_not_modified(samples):
    client = samples.client(api_version="v8")
    none = client.get_related(
        "Contacts", CONTACT_EXT, "Deals", fields="Deal_Name", ids=["no-such"], related_field="External_Deal_ID"
    )
    assert (none.status, len(none), none.info) == (204, 0, None)
    later = datetime.datetime(2022, 8, 9, 5, 0, tzinfo=datetime.timezone.utc)
    nm = client.get_related("Contacts", CONTACT_EXT, "Deals", fields="Deal_Name", if_modified_since=later)
    assert (nm.not_modified, nm.status, len(nm)) == (True, 304, 0)
    it = client.iter_related("Contacts", CONTACT_EXT, "Deals", fields="Deal_Name", if_modified_since=later)
    assert list(it) == [] and it.not_modified
    earlier = client.get_related("Contacts", CONTACT_EXT, "Deals", fields="Deal_Name", if_modified_since="2022-08-09T04:00:00Z")
    assert len(earlier) == 2
    sent = [v for e in samples.journal() for n, v in e["headers"] if n == "if-modified-since"]
    assert sent[-1] == "2022-08-09T04:00:00+00:00"
    with pytest.raises(InvalidInputError) as e:
        client.get_related("Contacts", CONTACT_EXT, "Deals", fields="Deal_Name", if_modified_since=datetime.datetime(2022, 1, 1))
    assert e.value.location == "if_modified_since"


def test_fields_missing_is_refused_before_anything_is_sent(samples):
    client = samples.client(api_version="v5")
    for call in (client.get_related, client.iter_related, client.prepare_get_related):
        with pytest.raises(InvalidInputError) as e:
            call("Contacts", CONTACT_EXT, "Deals")
        assert e.value.location == "fields"
    assert samples.journal() == []


def test_delete_single_list_and_mixed(zcrm_emulator):
    link_deals(zcrm_emulator, 5)
    client = zcrm_emulator.client(api_version="v8")

    def delete(values):
        return client.delete_related("Contacts", CONTACT_EXT, "Deals", values, related_field="External_Deal_ID")

    assert delete("d0")[0].code == "SUCCESS"
    assert delete(["d1", "d2"]).all_succeeded
    mixed = delete(["d3", "nope", "d1"])
    assert mixed.status == 207
    assert [(o.index, o.code) for o in mixed] == [(0, "SUCCESS"), (1, "INVALID_DATA"), (2, "INVALID_DATA")]
    assert mixed[1].details == {"api_name": "External_Deal_ID"}
    targets = [c[1] for c in api_calls(zcrm_emulator)]
    assert targets[:2] == ["/crm/v8/Contacts/extcontact3/Deals/d0", "/crm/v8/Contacts/extcontact3/Deals?ids=d1,d2"]
    assert len(zcrm_emulator.related("Contacts", CONTACT, "Deals")) == 1
    with pytest.raises(InvalidInputError) as e:
        delete(["a", "b,c"])
    assert e.value.location == "ids[1]"


HOSTILE = ["a/b", "a?b#c", "100%", "..", ".", "a b+c", "ü😀", "x,y", "%2F", "583472934", "a&ids=b"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_external_values_stay_one_segment(zcrm_emulator, value):
    deal_id = zcrm_emulator.insert_records("Deals", [{"External_Deal_ID": value}])[0]
    client = zcrm_emulator.client(api_version="v8")
    client.update_related("Contacts", CONTACT_EXT, "Deals", [{"External_Deal_ID": value}], related_field="External_Deal_ID")
    prepared = client.prepare_get_related("Contacts", CONTACT_EXT, "Deals", related=value, related_field="External_Deal_ID")
    assert prepared.url.count("/") == client.base_url.count("/") + 6, prepared.url
    got = client.get_related("Contacts", CONTACT_EXT, "Deals", related=value, related_field="External_Deal_ID")
    assert [(r.id, r["External_Deal_ID"]) for r in got] == [(deal_id, value)]
    assert client.delete_related("Contacts", CONTACT_EXT, "Deals", value, related_field="External_Deal_ID")[0].id == deal_id
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == []
