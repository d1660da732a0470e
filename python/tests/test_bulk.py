"""Client.link_many: lazy rows from any iterable of dicts, progress at a bounded rate, invalid rows as outcomes,
cancellation by an exception (in-flight calls finish), signals."""

from __future__ import annotations

import csv
import datetime
import io
import os
import signal
import threading
import time
from typing import Dict, Iterator, List, Set, Tuple

import pytest
from conftest import CONTACT, DEAL2, DEAL3

from zcrm_extid import BulkReport, BulkSummary, Progress, RowOutcome
from zcrm_extid.exceptions import AuthError, InvalidConfigError, InvalidInputError
from zcrm_extid.testing import Emulator

PARENT = "Contacts.External_Contact_ID"
RELATED = "Deals.External_Deal_ID"


def seed_org(emu: Emulator, contacts: int, deals: int) -> Tuple[List[str], List[str]]:
    """Contacts c0.. and deals d0.. with external ids; returns their record ids."""
    c = emu.insert_records("Contacts", [{"External_Contact_ID": f"c{i}", "Last_Name": f"C{i}"} for i in range(contacts)])
    d = emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}", "Deal_Name": f"D{i}"} for i in range(deals)])
    return c, d


def linked(emu: Emulator, contact_ids: List[str]) -> Set[Tuple[str, str]]:
    """(contact id, deal id) pairs linked in the emulator."""
    return {(c, deal) for c in contact_ids for deal, _ in emu.related("Contacts", c, "Deals")}


def test_a_generator_of_rows(zcrm_emulator):
    contacts, deals = seed_org(zcrm_emulator, 3, 250)
    pulled = 0

    def rows() -> Iterator[Dict[str, object]]:
        nonlocal pulled
        for i in range(250):
            pulled += 1
            yield {"External_Contact_ID": f"c{i % 3}", "External_Deal_ID": f"d{i}", "Contact_Role": f"role{i}"}

    report = zcrm_emulator.client().link_many(rows(), parent=PARENT, related=RELATED, fields=["Contact_Role"])
    assert isinstance(report, BulkReport) and isinstance(report.summary, BulkSummary)
    s = report.summary
    assert (s.rows, s.succeeded, s.failed, s.invalid, s.not_attempted, s.cancelled) == (250, 250, 0, 0, 0, False)
    assert s.calls == 3 and s.elapsed > 0  # grouped per parent: 84 + 83 + 83 records
    assert len(report) == 250 and pulled == 250
    assert [o.row for o in report] == list(range(250))
    first = report[0]
    assert isinstance(first, RowOutcome)
    assert (first.row, first.parent, first.key, first.ok, first.code, first.id, first.attempts) == (
        0, "c0", "d0", True, "SUCCESS", deals[0], 1)
    assert report[-1].row == 249 and report.outcomes[7].details["id"] == deals[7]
    assert "row=0" in repr(first) and "SUCCESS" in repr(first)
    assert linked(zcrm_emulator, contacts) == {(contacts[i % 3], deals[i]) for i in range(250)}
    assert zcrm_emulator.related("Deals", deals[5], "Contacts") == [(contacts[2], {"Contact_Role": "role5"})]


def test_a_csv_dict_reader_with_named_columns(zcrm_emulator):
    contacts, deals = seed_org(zcrm_emulator, 2, 4)
    text = "contact,deal,role,ignored\nc0,d0,r0,x\nc1,d1,,x\nc0,d2,r2,x\nc1,d3,r3,x\n"
    report = zcrm_emulator.client().link_many(
        csv.DictReader(io.StringIO(text)),
        parent=PARENT, related=RELATED, parent_column="contact", related_column="deal",
        fields={"Contact_Role": "role"},
    )
    assert report.summary.succeeded == 4
    assert zcrm_emulator.related("Contacts", contacts[0], "Deals") == [
        (deals[0], {"Contact_Role": "r0"}), (deals[2], {"Contact_Role": "r2"})]
    # An empty CSV cell means "no value": the field is left out.
    assert zcrm_emulator.related("Contacts", contacts[1], "Deals")[0] == (deals[1], {})


@pytest.mark.parametrize("fields", ["Contact_Role", ["Contact_Role"], [("Contact_Role", "Contact_Role")],
                                    {"Contact_Role": "Contact_Role"}])
def test_fields_as_a_name_names_pairs_or_a_mapping(zcrm_emulator, fields):
    contacts, deals = seed_org(zcrm_emulator, 1, 1)
    rows = [{"External_Contact_ID": "c0", "External_Deal_ID": "d0", "Contact_Role": "r", "Other": "ignored"}]
    report = zcrm_emulator.client().link_many(rows, parent=PARENT, related=RELATED, fields=fields)
    assert report[0].ok, report[0].message
    assert zcrm_emulator.related("Contacts", contacts[0], "Deals") == [(deals[0], {"Contact_Role": "r"})]


def test_a_list_of_dicts_with_integer_ids_as_a_data_frame_gives_them(zcrm_emulator):
    # `df.to_dict("records")` gives ids as Python ints; they are sent as their decimal text.
    by_parent_id = [{"id": int(CONTACT), "External_Deal_ID": "extdeal3", "Contact_Role": None}]
    report = zcrm_emulator.client().link_many(by_parent_id, parent="Contacts.id", related=RELATED)
    assert [(o.ok, o.parent, o.key) for o in report] == [(True, CONTACT, "extdeal3")]
    by_deal_id = [{"External_Contact_ID": "extcontact3", "id": int(DEAL2), "Contact_Role": float("nan")}]
    report = zcrm_emulator.client().link_many(by_deal_id, parent=PARENT, related="Deals.id")
    assert [(o.ok, o.key) for o in report] == [(True, DEAL2)], report[0].message
    # None and NaN cells (a data frame's missing values) are left out of the record.
    assert dict(zcrm_emulator.related("Contacts", CONTACT, "Deals")) == {DEAL3: {}, DEAL2: {}}


def test_invalid_rows_become_invalid_input_outcomes_and_the_job_goes_on(zcrm_emulator):
    contacts, deals = seed_org(zcrm_emulator, 1, 3)
    rows: List[object] = [
        {"External_Contact_ID": "c0", "External_Deal_ID": "d0"},
        {"External_Contact_ID": "c0"},  # no related key
        "not a dict",
        {"External_Contact_ID": 1.5, "External_Deal_ID": "d1"},  # parent cell of the wrong type
        {"External_Contact_ID": "c0", "External_Deal_ID": "d1", "Contact_Role": datetime.time(1, 2)},
        {"External_Contact_ID": "c0", "External_Deal_ID": "nope"},  # Zoho's per-record failure
        {"External_Contact_ID": "c0", "External_Deal_ID": "d2"},
    ]
    report = zcrm_emulator.client().link_many(rows, parent=PARENT, related=RELATED, fields=["Contact_Role"])
    codes = [o.code for o in report]
    assert codes == ["SUCCESS", "INVALID_INPUT", "INVALID_INPUT", "INVALID_INPUT", "INVALID_INPUT", "INVALID_DATA",
                     "SUCCESS"]
    assert report[1].details == {"argument": "row", "field": "External_Deal_ID"}
    assert "External_Deal_ID" in report[1].message and "missing" in report[1].message
    assert "dict" in report[2].message and report[2].attempts == 0
    assert report[3].details["field"] == "External_Contact_ID"
    assert report[4].details["field"] == "Contact_Role"
    s = report.summary
    assert (s.rows, s.succeeded, s.failed, s.invalid) == (7, 2, 5, 4)
    assert linked(zcrm_emulator, contacts) == {(contacts[0], deals[0]), (contacts[0], deals[2])}


def test_progress_is_reported_at_a_bounded_rate_and_drives_a_tqdm_like_bar():
    class Bar:
        """The part of tqdm's API a progress callback needs."""

        def __init__(self) -> None:
            self.total = 0
            self.n = 0
            self.postfix = ""

        def update(self, k: int) -> None:
            self.n += k

        def set_postfix_str(self, s: str) -> None:
            self.postfix = s

    bar = Bar()
    seen: List[Progress] = []

    def on_progress(p: Progress) -> None:
        # With tqdm: `bar = tqdm(unit="row")`, then exactly these three lines.
        bar.total = p.rows_read
        bar.update(p.completed - bar.n)
        bar.set_postfix_str(f"{p.rows_per_sec:.0f} rows/s, {p.failed} failed, {p.in_flight} in flight")
        seen.append(p)

    with Emulator(latency_ms=100) as emu:
        contacts, _ = seed_org(emu, 10, 10)
        rows = ({"External_Contact_ID": f"c{i}", "External_Deal_ID": f"d{i}"} for i in range(10))
        started = time.perf_counter()
        report = emu.client().link_many(
            rows, parent=PARENT, related=RELATED, concurrency=1, on_progress=on_progress, progress_interval=0.05
        )
        elapsed = time.perf_counter() - started
    assert report.summary.succeeded == 10
    assert elapsed >= 0.9, "ten serial calls of 100 ms"
    # At most one report per 50 ms (+ the final one): ~20 for this 1 s job, far below one per row or per ms.
    assert 5 <= len(seen) <= elapsed / 0.05 + 2, len(seen)
    last = seen[-1]
    assert (last.rows_read, last.completed, last.succeeded, last.failed, last.in_flight) == (10, 10, 10, 0, 0)
    assert (bar.total, bar.n) == (10, 10) and "rows/s" in bar.postfix
    assert last.elapsed > 0.9 and last.concurrency == 1 and (last.retries, last.rate_limited) == (0, 0)
    assert all(a.completed <= b.completed for a, b in zip(seen, seen[1:]))
    assert "Progress(rows_read=10" in repr(last)


class Stop(Exception):
    pass


def test_an_exception_in_the_callback_cancels_the_job_after_in_flight_calls_finish():
    with Emulator(latency_ms=100) as emu:
        contacts, deals = seed_org(emu, 40, 40)
        rows = [{"External_Contact_ID": f"c{i}", "External_Deal_ID": f"d{i}"} for i in range(40)]
        calls = 0

        def on_progress(p: Progress) -> None:
            nonlocal calls
            calls += 1
            if p.completed >= 1:
                raise Stop("enough")

        client = emu.client()
        with pytest.raises(Stop, match="enough") as e:
            client.link_many(rows, parent=PARENT, related=RELATED, concurrency=4, on_progress=on_progress,
                             progress_interval=0.01)
        report = e.value.bulk_report  # type: ignore[attr-defined]
        s = report.summary
        assert s.cancelled and 0 < s.succeeded < 40
        assert s.not_attempted > 0 and s.succeeded + s.not_attempted == s.rows == len(report)
        assert {o.code for o in report} == {"SUCCESS", "NOT_ATTEMPTED"}
        assert all(o.attempts == 0 for o in report if o.code == "NOT_ATTEMPTED")
        snapshot = len([j for j in emu.journal() if j["method"] == "PUT"])
        time.sleep(0.3)
        # No call was still on the wire when the exception arrived, and every call got its answer.
        puts = [j for j in emu.journal() if j["method"] == "PUT"]
        assert len(puts) == snapshot == s.calls
        assert all(j["status"] == 200 for j in puts)
        ok_pairs = {(contacts[o.row], deals[o.row]) for o in report if o.ok}
        assert linked(emu, contacts) == ok_pairs, "the state holds exactly the rows reported as succeeded"
        assert calls >= 1


def test_an_exception_from_the_rows_iterator_propagates_like_one_from_the_callback(zcrm_emulator):
    contacts, deals = seed_org(zcrm_emulator, 1, 5)

    def rows() -> Iterator[Dict[str, str]]:
        yield {"External_Contact_ID": "c0", "External_Deal_ID": "d0"}
        raise Stop("source broke")

    with pytest.raises(Stop, match="source broke") as e:
        zcrm_emulator.client().link_many(rows(), parent=PARENT, related=RELATED)
    report = e.value.bulk_report  # type: ignore[attr-defined]
    assert report.summary.cancelled and report.summary.rows == 1
    assert linked(zcrm_emulator, contacts) == {(contacts[0], deals[o.row]) for o in report if o.ok}


def test_a_million_row_generator_is_read_lazily(zcrm_emulator):
    seed_org(zcrm_emulator, 1, 1)
    pulled = 0

    def rows() -> Iterator[Dict[str, str]]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield {"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}"}

    def on_progress(p: Progress) -> None:
        if p.completed:
            raise Stop

    with pytest.raises(Stop) as e:
        zcrm_emulator.client().link_many(rows(), parent=PARENT, related=RELATED, window=500, on_progress=on_progress,
                                         progress_interval=0.01)
    assert pulled < 10_000, f"{pulled} rows pulled: the input was materialised"
    assert e.value.bulk_report.summary.rows == pulled  # type: ignore[attr-defined]


def test_ctrl_c_cancels_the_job_and_raises_keyboard_interrupt():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    with Emulator(latency_ms=200) as emu:
        contacts, _ = seed_org(emu, 20, 20)
        rows = [{"External_Contact_ID": f"c{i}", "External_Deal_ID": f"d{i}"} for i in range(20)]
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.perf_counter()
        try:
            with pytest.raises(KeyboardInterrupt) as e:
                emu.client().link_many(rows, parent=PARENT, related=RELATED, concurrency=1, progress_interval=0.02)
        finally:
            timer.cancel()
        assert time.perf_counter() - started < 2.0, "20 serial calls would take 4 s"
        report = e.value.bulk_report  # type: ignore[attr-defined]
        assert report.summary.cancelled
        assert linked(emu, contacts) == {(contacts[o.row], emu.find_external("Deals", "External_Deal_ID", f"d{o.row}"))
                                         for o in report if o.ok}


def test_bad_job_settings_raise_before_reading(zcrm_emulator):
    client = zcrm_emulator.client()
    untouched = iter([{"x": 1}])
    with pytest.raises(InvalidInputError) as e:
        client.link_many(untouched, parent="Contacts", related=RELATED)
    assert e.value.argument == "parent"
    with pytest.raises(InvalidConfigError) as e2:
        client.link_many(untouched, parent=PARENT, related=RELATED, batch_size=101)
    assert e2.value.setting == "batch_size"
    with pytest.raises(InvalidConfigError) as e2:
        client.link_many(untouched, parent=PARENT, related=RELATED, edition="platinum")
    assert e2.value.setting == "edition"
    assert next(untouched) == {"x": 1}
    assert zcrm_emulator.journal() == []


def test_only_named_fields_are_sent_and_extra_columns_can_be_refused(zcrm_emulator):
    contacts, deals = seed_org(zcrm_emulator, 1, 2)
    # A data frame's extra column (`region`) is left out: it would be an INVALID_DATA from the server.
    rows = [{"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}", "Contact_Role": "r", "region": "EU"}
            for i in range(2)]
    report = zcrm_emulator.client().link_many(rows, parent=PARENT, related=RELATED, fields=["Contact_Role"])
    assert [o.code for o in report] == ["SUCCESS", "SUCCESS"]
    assert zcrm_emulator.related("Deals", deals[0], "Contacts") == [(contacts[0], {"Contact_Role": "r"})]
    strict = zcrm_emulator.client().link_many(rows, parent=PARENT, related=RELATED, fields=["Contact_Role"],
                                              extra="error")
    assert [o.code for o in strict] == ["INVALID_INPUT", "INVALID_INPUT"]
    assert strict[0].details["field"] == "region" and "region" in strict[0].message
    with pytest.raises(InvalidInputError) as e:
        zcrm_emulator.client().link_many(rows, parent=PARENT, related=RELATED, extra="sometimes")
    assert e.value.argument == "extra"


def test_a_wrong_secret_stops_the_job_and_raises_with_the_report(zcrm_emulator):
    seed_org(zcrm_emulator, 2, 300)
    client = zcrm_emulator.client(client_secret="wrong")
    rows = [{"External_Contact_ID": f"c{i % 2}", "External_Deal_ID": f"d{i}"} for i in range(300)]
    with pytest.raises(AuthError) as e:
        client.link_many(rows, parent=PARENT, related=RELATED, batch_size=10)
    assert e.value.code == "OAUTH_INVALID_CLIENT"
    report = e.value.bulk_report
    assert len(report) == 300 and report.summary.stopped == "OAUTH_INVALID_CLIENT"
    assert {o.code for o in report} <= {"OAUTH_INVALID_CLIENT", "NOT_ATTEMPTED"}
    assert report.summary.not_attempted > 0
    assert zcrm_emulator.stats()["token_errors"] <= 2
