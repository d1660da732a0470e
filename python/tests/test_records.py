"""Records by external ID from Python against the in-process emulator: round trips, per-record errors, 204,
NOT_ALLOWED before sending, data-frame cells (NaN/NaT left out, date-times as ISO text), paging and search."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Dict, List

import pytest
from conftest import CONTACT

from zcrm_extid import RecordsPage, RecordsResult
from zcrm_extid.exceptions import InvalidInputError, ScopeMismatchError, ZcrmError

ACCOUNT = "111111000000101039"  # External_Account_ID = externalaccount1 (default seed)


def contacts(emu) -> List[Dict[str, Any]]:
    return emu.state()["modules"]["Contacts"]["records"]


def by_ext(emu, value: str) -> List[Dict[str, Any]]:
    return [r for r in contacts(emu) if r.get("External_Contact_ID") == value]


def test_insert_get_update_upsert_delete_round_trip(zcrm_emulator):
    client = zcrm_emulator.client()
    res = client.insert_records(
        "Contacts",
        [
            {"Last_Name": "Boyle", "External_Contact_ID": "c1", "Account_Name": {"External_Account_ID": "externalaccount1"}},
            {"Last_Name": "Smith", "External_Contact_ID": "c2"},
        ],
        external_fields=["Accounts.External_Account_ID"],
    )
    assert isinstance(res, RecordsResult)
    assert (res.status, res.all_succeeded, len(res)) == (201, True, 2)
    assert res[0].message == "record added" and res[0].id == by_ext(zcrm_emulator, "c1")[0]["id"]
    assert by_ext(zcrm_emulator, "c1")[0]["Account_Name"]["id"] == ACCOUNT

    page = client.get_records("Contacts", "c1", key="External_Contact_ID")
    assert isinstance(page, RecordsPage)
    assert page.info is None and not page.more_records
    assert page[0]["Last_Name"] == "Boyle"

    upd = client.update_records("Contacts", [{"Phone": "555"}], key="External_Contact_ID", id="c2")
    assert upd[0].details["External_Contact_ID"] == "c2"
    assert by_ext(zcrm_emulator, "c2")[0]["Phone"] == "555"
    many = client.update_records(
        "Contacts", [{"External_Contact_ID": "c1", "Phone": "1"}, {"External_Contact_ID": "c2", "Phone": "2"}],
        key="External_Contact_ID",
    )
    assert many.succeeded == 2

    up = client.upsert_records(
        "Contacts",
        [{"External_Contact_ID": "c1", "Last_Name": "Boyle2"}, {"External_Contact_ID": "c3", "Last_Name": "New"}],
        duplicate_check_fields=["External_Contact_ID"],
    )
    assert [(o.action, o.duplicate_field) for o in up] == [("update", "External_Contact_ID"), ("insert", None)]
    assert up[0].id == res[0].id

    got = client.get_records("Contacts", ["c3", "c1", "nobody"], key="External_Contact_ID", fields=["Last_Name"])
    assert [r["Last_Name"] for r in got] == ["New", "Boyle2"]
    assert got.info is not None and got.info["count"] == 2

    gone = client.delete_records("Contacts", ["c1", "c2", "nobody"], key="External_Contact_ID")
    assert [o.code for o in gone] == ["SUCCESS", "SUCCESS", "INVALID_DATA"]
    assert gone.status == 207 and gone[2].status == 207
    empty = client.get_records("Contacts", "c1", key="External_Contact_ID")
    assert len(empty) == 0 and list(empty) == [], "a 204 is an empty page"


def test_duplicate_data_and_an_unknown_lookup_are_outcomes(zcrm_emulator):
    client = zcrm_emulator.client()
    res = client.insert_records(
        "Contacts",
        [
            {"Last_Name": "a", "External_Contact_ID": "extcontact3"},
            {"Last_Name": "b", "Account_Name": {"External_Account_ID": "no-such"}},
        ],
        external_fields=["Accounts.External_Account_ID"],
    )
    assert res.status == 400 and res.failed == 2
    assert res[0].code == "DUPLICATE_DATA" and res[0].details["duplicate_record"]["id"] == CONTACT
    assert (res[1].code, res[1].details["api_name"]) == ("INVALID_DATA", "Account_Name")


def test_rules_are_checked_before_sending(zcrm_emulator):
    client = zcrm_emulator.client()
    cases = [
        (lambda: client.update_records("Contacts", [{"External_Contact_ID": "x"}], key="External_Contact_ID", id="extcontact3"),
         "data[0].External_Contact_ID"),
        (lambda: client.insert_records("Contacts", [{"Account_Name": {"External_Account_ID": "a", "id": "1"}}],
                                       external_fields=["Accounts.External_Account_ID"]), "data[0].Account_Name.id"),
        (lambda: client.delete_records("Contacts", ["a", "b,c"], key="External_Contact_ID"), "ids[1]"),
        (lambda: client.get_records("Deals"), "fields"),
        (lambda: client.upsert_records("Contacts", [{"Last_Name": "x"}], duplicate_check_fields="External_Contact_ID"),
         "data[0].External_Contact_ID"),
        (lambda: client.search_records("Contacts", [], key="External_Contact_ID"), "values"),
        (lambda: client.insert_records("Contacts", [{"When": dt.datetime(2024, 5, 1, 10, 30)}]), "data[0].When"),
        (lambda: client.insert_records("Contacts", [{"X": object()}]), "data[0].X"),
        (lambda: client.get_records("Contacts", [1.5], key="External_Contact_ID"), "ids[0]"),
    ]
    for call, location in cases:
        with pytest.raises(InvalidInputError) as e:
            call()
        assert e.value.location == location, str(e.value)
    assert zcrm_emulator.journal() == [], "nothing was sent"


def test_data_frame_cells(zcrm_emulator):
    client = zcrm_emulator.client()
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))

    class NaT(dt.datetime):
        """What pandas.NaT looks like to the binding: a datetime that is not equal to itself."""

        def __eq__(self, other: object) -> bool:
            return False

        def __ne__(self, other: object) -> bool:
            return True

        __hash__ = dt.datetime.__hash__

    prepared = client.prepare_records(
        "insert", "Contacts",
        records=[{
            "Last_Name": "x", "Phone": math.nan, "Fax": None, "Since": dt.date(2020, 1, 31),
            "Seen": dt.datetime(2024, 5, 1, 10, 30, 5, 999, tzinfo=ist), "Gone": NaT(2000, 1, 1),
            "Count": 3,
        }],
    )
    assert prepared.body == (
        '{"data":[{"Last_Name":"x","Fax":null,"Since":"2020-01-31","Seen":"2024-05-01T10:30:05+05:30","Count":3}]}'
    )
    res = client.insert_records("Contacts", [{"Last_Name": "utc", "Seen": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)}])
    assert [r["Seen"] for r in contacts(zcrm_emulator) if r.get("Last_Name") == "utc"] == ["2024-01-01T00:00:00+00:00"]
    assert res.all_succeeded


def test_pages_iterator_and_search(zcrm_emulator):
    client = zcrm_emulator.client()
    rows = [{"External_Contact_ID": f"p{i:02}", "Last_Name": f"L{i}"} for i in range(25)]
    assert client.upsert_records("Contacts", rows, duplicate_check_fields=["External_Contact_ID"]).all_succeeded
    first = client.get_records("Contacts", fields=["External_Contact_ID"], per_page=10)
    assert (len(first), first.more_records, first.info["next_page_token"]) == (10, True, "p2")
    all_ids = [r["External_Contact_ID"] for r in client.iter_records("Contacts", fields=["External_Contact_ID"], per_page=10)]
    assert len(all_ids) == 26 and len(set(all_ids)) == 26, "25 upserted + extcontact3, each once"
    found = client.search_records("Contacts", ["p01", "p24", "zz"], key="External_Contact_ID")
    assert sorted(r["External_Contact_ID"] for r in found) == ["p01", "p24"]
    one = client.search_records("Contacts", "p05", key="External_Contact_ID")
    assert [r["Last_Name"] for r in one] == ["L5"]
    assert len(client.search_records("Contacts", "nobody", key="External_Contact_ID")) == 0


def test_search_needs_its_scope(zcrm_emulator):
    zcrm_emulator.add_access_token("1000.crm-only", ["ZohoCRM.modules.all"])
    client = zcrm_emulator.client(access_token="1000.crm-only")
    with pytest.raises(ScopeMismatchError) as e:
        client.search_records("Contacts", "extcontact3", key="External_Contact_ID")
    assert "ZohoSearch.securesearch.READ" in (e.value.hint or "")
    assert len(client.get_records("Contacts", "extcontact3", key="External_Contact_ID")) == 1


def test_an_error_of_the_iterator_is_raised_by_next(zcrm_emulator):
    client = zcrm_emulator.client(max_retries=0)
    it = client.iter_records("Deals", fields=["Deal_Name"], per_page=1)
    assert next(it)["Deal_Name"] == "Deal 3"
    zcrm_emulator.push_fault(kind="status", status=500)
    with pytest.raises(ZcrmError) as e:
        next(it)
    assert e.value.status == 500
