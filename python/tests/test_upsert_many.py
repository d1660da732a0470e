"""Client.upsert_many: records from any iterable of dicts (a data frame's records with NaN/None/NaT and
time-zoned Timestamps), lookups by external ID from columns, the later row of a repeated key wins, an action and
a Zoho id per row, bad rows as outcomes, cancellation and the breaker with the report."""

from __future__ import annotations

import datetime
import math
from typing import Dict, Iterator, List, Optional

import pytest

from zcrm_extid import BulkReport, RowOutcome
from zcrm_extid.exceptions import AuthError, InvalidInputError
from zcrm_extid.testing import Emulator

ACCOUNT = {"Account_Name": "Accounts.External_Account_ID:account"}


class Stop(Exception):
    pass


def contacts(emu: Emulator) -> Dict[str, dict]:
    """Contacts by External_Contact_ID, with the account lookup read back as the account's external id."""
    state = emu.state()["modules"]
    account_ext = {r["id"]: r.get("External_Account_ID") for r in state["Accounts"]["records"]}
    out = {}
    for r in state["Contacts"]["records"]:
        r = dict(r)
        if isinstance(r.get("Account_Name"), dict):
            r["account"] = account_ext.get(r["Account_Name"]["id"])
        out[r["External_Contact_ID"]] = r
    return out


def seed_accounts(emu: Emulator, n: int) -> List[str]:
    return emu.insert_records("Accounts", [{"External_Account_ID": f"a{i}", "Account_Name": f"A{i}"} for i in range(n)])


def test_a_data_frames_records_with_missing_cells_and_timestamps(zcrm_emulator):
    seed_accounts(zcrm_emulator, 3)
    utc = datetime.timezone.utc
    nan = float("nan")
    # What `df.to_dict("records")` gives: NaN for missing numbers and text, None, time-zoned Timestamps.
    rows = [
        {"External_Contact_ID": "extcontact3", "Last_Name": "Renamed", "Phone": nan, "account": "a0",
         "Last_Seen": datetime.datetime(2024, 5, 1, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))},
        {"External_Contact_ID": "c1", "Last_Name": "New", "Phone": "555", "account": nan, "Last_Seen": None},
        {"External_Contact_ID": "c2", "Last_Name": "Naive", "Phone": nan, "account": "a1",
         "Last_Seen": datetime.datetime(2024, 5, 1, 10, 30)},
        {"External_Contact_ID": 42, "Last_Name": "Int key", "Phone": None, "account": "a2",
         "Birthday": datetime.date(1990, 1, 31)},
    ]
    report = zcrm_emulator.client().upsert_many(rows, module="Contacts", key="External_Contact_ID", lookups=ACCOUNT)
    assert isinstance(report, BulkReport) and len(report) == 4
    codes = [o.code for o in report]
    assert codes == ["SUCCESS", "SUCCESS", "INVALID_INPUT", "SUCCESS"]
    first: RowOutcome = report[0]
    assert (first.action, first.duplicate_field, first.parent, first.key) == (
        "update", "External_Contact_ID", "Contacts", "extcontact3")
    assert first.id == "111111000000085009"
    assert (report[1].action, report[3].action, report[3].key) == ("insert", "insert", "42")
    assert report[1].id and report[1].id == zcrm_emulator.find_external("Contacts", "External_Contact_ID", "c1")
    assert report[2].details["field"] == "Last_Seen" and "time zone" in report[2].message
    got = contacts(zcrm_emulator)
    assert got["extcontact3"]["Last_Name"] == "Renamed"
    assert got["extcontact3"]["Last_Seen"] == "2024-05-01T10:30:00+02:00"
    assert got["extcontact3"]["account"] == "a0"
    assert "Phone" not in got["extcontact3"], "a NaN cell changes nothing"
    assert got["c1"]["Phone"] == "555" and "Last_Seen" not in got["c1"] and "Account_Name" not in got["c1"]
    assert "c2" not in got
    assert got["42"]["Birthday"] == "1990-01-31" and got["42"]["account"] == "a2"
    assert report.summary.succeeded == 3 and report.summary.invalid == 1


def test_the_later_row_of_a_repeated_key_wins_across_lookup_shapes(zcrm_emulator):
    seed_accounts(zcrm_emulator, 5)

    def rows() -> Iterator[dict]:
        for k in range(300):
            yield {"External_Contact_ID": f"c{k}", "Last_Name": "first"}
        for k in range(300):
            yield {"External_Contact_ID": f"c{k}", "Last_Name": "second", "account": f"a{k % 5}"}

    report = zcrm_emulator.client().upsert_many(rows(), module="Contacts", key="External_Contact_ID",
                                                lookups=ACCOUNT, concurrency=10)
    assert report.summary.succeeded == 600
    assert [o.action for o in report] == ["insert"] * 300 + ["update"] * 300
    got = contacts(zcrm_emulator)
    assert all(got[f"c{k}"]["Last_Name"] == "second" and got[f"c{k}"]["account"] == f"a{k % 5}" for k in range(300))


def test_columns_renamed_skipped_and_nested_lookups(zcrm_emulator):
    seed_accounts(zcrm_emulator, 1)
    rows = [
        {"ext": "c1", "surname": "Boyle", "note": "for humans",
         "Account_Name": {"External_Account_ID": "a0"}},
    ]
    report = zcrm_emulator.client().upsert_many(
        rows, module="Contacts", key="External_Contact_ID", columns={"External_Contact_ID": "ext", "Last_Name": "surname"},
        skip=["note"], external_fields=["Accounts.External_Account_ID"])
    assert report[0].ok, report[0]
    got = contacts(zcrm_emulator)["c1"]
    assert (got["Last_Name"], got["account"]) == ("Boyle", "a0") and "note" not in got
    api = [j for j in zcrm_emulator.journal() if j["path"].endswith("/Contacts/upsert")]
    headers = {k.lower(): v for k, v in api[-1]["headers"]}
    assert headers["x-external"] == "Contacts.Account_Name.External_Account_ID"


def test_bad_settings_raise_before_reading_and_bad_rows_are_outcomes(zcrm_emulator):
    client = zcrm_emulator.client()
    read = 0

    def rows() -> Iterator[object]:
        nonlocal read
        read += 1
        yield {"External_Contact_ID": "c1"}

    with pytest.raises(InvalidInputError) as e:
        client.upsert_many(rows(), module="Contacts", key="bad key")
    assert e.value.argument == "key" and read == 0
    with pytest.raises(InvalidInputError) as e:
        client.upsert_many(rows(), module="Contacts", key="External_Contact_ID", lookups=["Account_Name"])
    assert e.value.argument == "lookups"
    with pytest.raises(InvalidInputError):
        client.upsert_many(42, module="Contacts", key="External_Contact_ID")  # type: ignore[arg-type]
    report = client.upsert_many(
        [["not", "a", "dict"], {"Last_Name": "no key"}, {"External_Contact_ID": "c9", "bad name": 1}],
        module="Contacts", key="External_Contact_ID")
    assert [o.code for o in report] == ["INVALID_INPUT"] * 3
    assert [o.details.get("field") for o in report] == [None, "External_Contact_ID", "bad name"]
    assert zcrm_emulator.stats()["api_calls"] == 0


def test_an_exception_of_the_callback_cancels_and_a_wrong_secret_raises_with_the_report():
    with Emulator(latency_ms=100) as emu:
        rows = [{"External_Contact_ID": f"c{i}", "Last_Name": f"L{i}"} for i in range(400)]

        def on_progress(p) -> None:
            if p.completed >= 1:
                raise Stop("enough")

        with pytest.raises(Stop) as e:
            emu.client().upsert_many(rows, module="Contacts", key="External_Contact_ID", batch_size=10,
                                     concurrency=2, on_progress=on_progress, progress_interval=0.01)
        report = e.value.bulk_report  # type: ignore[attr-defined]
        assert report.summary.cancelled and 0 < report.summary.succeeded < 400
        assert {o.code for o in report} == {"SUCCESS", "NOT_ATTEMPTED"}
        upserted = {k for k in contacts(emu) if k.startswith("c")}
        assert upserted == {o.key for o in report if o.ok}, "the state holds exactly the rows reported ok"

        with pytest.raises(AuthError) as auth:
            emu.client(client_secret="wrong").upsert_many(rows, module="Contacts", key="External_Contact_ID")
        assert auth.value.bulk_report.summary.stopped == "OAUTH_INVALID_CLIENT"  # type: ignore[attr-defined]
        assert len(auth.value.bulk_report) == 400  # type: ignore[attr-defined]
