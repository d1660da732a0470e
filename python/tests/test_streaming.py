"""Outcomes as they complete: `on_outcome`, `keep_outcomes=False` and `Client.iter_link_many` (the job on its own
thread, the consumer's pace setting the job's)."""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, List

import pytest
from conftest import api_puts

from zcrm_extid import RowOutcome
from zcrm_extid.exceptions import AuthError
from zcrm_extid.testing import Emulator

LINK: Dict[str, Any] = dict(parent="Contacts.External_Contact_ID", related="Deals.External_Deal_ID")


def seed(emu: Emulator, contacts: int, deals: int) -> None:
    emu.insert_records("Contacts", [{"External_Contact_ID": f"c{i}"} for i in range(contacts)])
    emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}"} for i in range(deals)])


def test_on_outcome_gets_each_row_as_its_call_completes_and_keep_outcomes_false_keeps_none() -> None:
    with Emulator(latency_ms=20) as emu:
        seed(emu, 4, 100)
        client = emu.client()
        seen: List[RowOutcome] = []
        rows = [{"External_Contact_ID": f"c{i // 100}", "External_Deal_ID": f"d{i % 100}"} for i in range(400)]
        rows.insert(50, {"External_Contact_ID": "c0"})  # no related key: INVALID_INPUT
        report = client.link_many(rows, **LINK, batch_size=25, on_outcome=seen.append, keep_outcomes=False)
        assert len(report) == 0 and report.summary.rows == 401
        assert sorted(o.row for o in seen) == list(range(401))
        assert seen[0].code == "INVALID_INPUT", "an invalid row's outcome comes first, before any call returns"
        assert {o.code for o in seen} == {"SUCCESS", "INVALID_INPUT"}
        assert seen[1].outcome.index == seen[1].row and seen[1].outcome.code == seen[1].code


def test_on_outcome_that_raises_stops_the_job_with_bulk_report() -> None:
    with Emulator(latency_ms=30) as emu:
        seed(emu, 1, 100)

        def on_outcome(_: RowOutcome) -> None:
            raise KeyError("the report file is gone")

        rows = [{"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}"} for i in range(100)]
        with pytest.raises(KeyError) as e:
            emu.client().link_many(rows, **LINK, batch_size=5, concurrency=1, on_outcome=on_outcome)
        report = getattr(e.value, "bulk_report")
        assert report.summary.cancelled and report.summary.not_attempted > 0
        assert len(api_puts(emu)) < 20


def test_iter_link_many_yields_as_calls_complete_and_reads_only_as_fast_as_it_is_consumed() -> None:
    with Emulator(latency_ms=50) as emu:
        seed(emu, 10, 100)
        produced = 0

        def rows() -> Iterator[Dict[str, str]]:
            nonlocal produced
            for i in range(1000):
                produced += 1
                yield {"External_Contact_ID": f"c{i // 100}", "External_Deal_ID": f"d{i % 100}"}

        stream = emu.client().iter_link_many(rows(), **LINK, window=100, concurrency=2)
        started = time.perf_counter()
        first = next(stream)
        first_at = time.perf_counter() - started
        leads: List[int] = []
        count = 1
        for outcome in stream:
            assert outcome.ok, outcome
            count += 1
            leads.append(produced - count)
        total = time.perf_counter() - started
        assert first.ok and count == 1000
        assert first_at < total / 4, f"the first outcome came after {first_at:.2f} s of {total:.2f} s"
        # The generator is never more than the window, the calls on the wire and the stream's buffer ahead.
        assert max(leads) <= 100 + 2 * 2 * 100 + 1024, max(leads)
        assert stream.summary is not None and stream.summary.succeeded == 1000


def test_closing_the_stream_stops_the_job_which_winds_down() -> None:
    with Emulator(latency_ms=100) as emu:
        seed(emu, 1, 300)
        rows = [{"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}"} for i in range(300)]
        stream = emu.client().iter_link_many(rows, **LINK, batch_size=10, concurrency=1)
        assert next(stream).ok
        stream.close()
        rest = list(stream)  # calls in flight finish, the rows read but not sent are NOT_ATTEMPTED
        assert {o.code for o in rest} <= {"SUCCESS", "NOT_ATTEMPTED"} and "NOT_ATTEMPTED" in {o.code for o in rest}
        assert stream.summary is not None and stream.summary.cancelled
        assert stream.summary.rows == 1 + len(rest)
        sent = len(api_puts(emu))
        time.sleep(0.3)
        assert len(api_puts(emu)) == sent and sent < 10, "no call after close()"
        # Leaving a `with` block closes it too.
        with emu.client().iter_link_many(rows, **LINK, batch_size=10, concurrency=1) as again:
            assert next(again).ok
        time.sleep(0.3)
        sent = len(api_puts(emu))
        time.sleep(0.3)
        assert len(api_puts(emu)) == sent


def test_a_breaker_stop_is_raised_at_the_end_with_the_totals() -> None:
    with Emulator() as emu:
        seed(emu, 1, 5)
        client = emu.client(client_secret="wrong")
        rows = [{"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}"} for i in range(5)]
        seen: List[RowOutcome] = []
        with pytest.raises(AuthError) as e:
            for outcome in client.iter_link_many(rows, **LINK):
                seen.append(outcome)
        # The call that met the wrong secret fails with it; rows not sent are NOT_ATTEMPTED naming it.
        assert {o.code for o in seen} <= {"OAUTH_INVALID_CLIENT", "NOT_ATTEMPTED"} and len(seen) == 5
        report = getattr(e.value, "bulk_report")
        assert report.summary.stopped == "OAUTH_INVALID_CLIENT" and len(report) == 0
