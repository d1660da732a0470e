"""zcrm_extid.aio.AsyncClient: awaitables that never block the event loop, cancelled with their task."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Dict, List

import pytest
from conftest import CONTACT, DEAL2, DEAL3, api_puts

from zcrm_extid import External, RowOutcome
from zcrm_extid.aio import AsyncClient
from zcrm_extid.exceptions import InvalidDataError, InvalidInputError
from zcrm_extid.testing import Emulator

LINK = dict(parent="Contacts.External_Contact_ID", related="Deals.External_Deal_ID")


def seed(emu: Emulator, contacts: int, deals: int) -> None:
    emu.insert_records("Contacts", [{"External_Contact_ID": f"c{i}"} for i in range(contacts)])
    emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}"} for i in range(deals)])


async def heartbeat(gaps: List[float], stop: asyncio.Event) -> None:
    """Ticks every 10 ms and records how late each tick was: a blocked loop shows as a long gap."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


def test_100_concurrent_awaits_take_about_one_latency_and_the_loop_keeps_ticking() -> None:
    latency = 0.5
    with Emulator(latency_ms=int(latency * 1000), concurrency=200) as emu:
        client = AsyncClient.from_client(emu.client())

        async def main() -> float:
            await client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])  # the token, once
            gaps: List[float] = []
            stop = asyncio.Event()
            ticking = asyncio.create_task(heartbeat(gaps, stop))
            started = time.perf_counter()
            results = await asyncio.gather(
                *(client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]) for _ in range(100))
            )
            elapsed = time.perf_counter() - started
            stop.set()
            await ticking
            assert all(r.all_succeeded for r in results)
            worst = max(gaps)
            print(f"100 awaits of {latency} s: {elapsed:.2f} s; {len(gaps)} heartbeats, worst gap {worst * 1000:.0f} ms")
            # A blocked loop (or calls run a few at a time) would take many latencies and starve the heartbeat.
            assert worst < 0.25, f"the event loop stalled {worst * 1000:.0f} ms"
            assert len(gaps) >= elapsed / 0.01 * 0.3, f"{len(gaps)} heartbeats in {elapsed:.2f} s"
            return elapsed

        elapsed = asyncio.run(main())
        assert latency <= elapsed < latency * 2.5, f"100 concurrent calls took {elapsed:.2f} s"
        assert emu.stats()["max_in_flight"] >= 50


def test_a_cancelled_task_cancels_the_call_no_retry_is_sent() -> None:
    with Emulator(latency_ms=600) as emu:
        client = AsyncClient.from_client(emu.client())
        emu.push_fault(kind="status", status=500, forever=True)  # every attempt fails and would be retried

        async def main() -> None:
            task = asyncio.create_task(client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]))
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.perf_counter() - started < 0.1, "the task ends at once"
            await asyncio.sleep(1.5)  # the attempt on the wire ends; no retry follows

        asyncio.run(main())
        assert len(api_puts(emu)) == 1


def test_wait_for_times_a_call_out_and_cancels_it() -> None:
    with Emulator(latency_ms=800) as emu:
        client = AsyncClient.from_client(emu.client())

        async def main() -> None:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.get_related("Contacts", CONTACT, "Deals", fields="Deal_Name"), 0.1)

        started = time.perf_counter()
        asyncio.run(main())
        assert time.perf_counter() - started < 0.6


def test_errors_and_results_are_the_clients() -> None:
    with Emulator() as emu:
        client = AsyncClient.from_client(emu.client())

        async def main() -> None:
            with pytest.raises(InvalidInputError):
                await client.update_related("Contacts", "not-an-id", "Deals", [{"id": DEAL3}])
            with pytest.raises(InvalidDataError):
                await client.update_related("Contacts", External("External_Contact_ID", "ghost"), "Deals", [{"id": DEAL3}])
            deleted = await client.delete_related("Contacts", CONTACT, "Deals", [DEAL3])
            assert [o.code for o in deleted] == ["SUCCESS"] or deleted.status in (200, 207, 400)
            rows = [r.id async for r in client.iter_related("Contacts", CONTACT, "Deals", fields="Deal_Name")]
            assert isinstance(rows, list)
            prepared = client.prepare_update_related("Contacts", CONTACT, "Deals", [{"id": DEAL2}])
            assert prepared.method == "PUT"

        asyncio.run(main())


def test_link_many_from_an_async_generator_with_callbacks_on_the_loop() -> None:
    with Emulator() as emu:
        seed(emu, 3, 300)
        client = AsyncClient.from_client(emu.client())

        async def main() -> None:
            loop_thread = asyncio.get_running_loop()
            produced = 0
            seen: List[RowOutcome] = []
            threads: set = set()

            async def rows() -> AsyncIterator[Dict[str, Any]]:
                nonlocal produced
                for i in range(300):
                    produced += 1
                    yield {"External_Contact_ID": f"c{i % 3}", "External_Deal_ID": f"d{i}"}

            def on_outcome(o: RowOutcome) -> None:
                threads.add(asyncio.get_running_loop() is loop_thread)
                seen.append(o)

            report = await client.link_many(rows(), **LINK, window=100, on_outcome=on_outcome, keep_outcomes=False)
            assert (report.summary.rows, report.summary.succeeded) == (300, 300)
            assert len(seen) == 300 and report.outcomes == []
            assert threads == {True}, "on_outcome runs on the event loop"

        asyncio.run(main())


def test_a_callback_that_raises_stops_the_job_with_bulk_report() -> None:
    with Emulator(latency_ms=50) as emu:
        seed(emu, 1, 100)
        client = AsyncClient.from_client(emu.client())

        async def main() -> None:
            def on_progress(_: Any) -> None:
                raise RuntimeError("dashboard down")

            rows = [{"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}"} for i in range(100)]
            with pytest.raises(RuntimeError) as e:
                await client.link_many(rows, **LINK, batch_size=5, concurrency=1, progress_interval=0.01,
                                       on_progress=on_progress)
            report = getattr(e.value, "bulk_report")
            assert report.summary.cancelled and report.summary.not_attempted > 0

        asyncio.run(main())


def test_iter_link_many_async_yields_outcomes_as_they_complete_and_cancels_with_the_task() -> None:
    with Emulator(latency_ms=100) as emu:
        seed(emu, 1, 200)
        client = AsyncClient.from_client(emu.client())

        async def main() -> None:
            rows = [{"External_Contact_ID": "c0", "External_Deal_ID": f"d{i}"} for i in range(200)]
            first_at = None
            started = time.perf_counter()
            count = 0
            async for outcome in client.iter_link_many(rows, **LINK, batch_size=10, concurrency=2):
                if first_at is None:
                    first_at = time.perf_counter() - started
                assert outcome.ok, outcome
                count += 1
            total = time.perf_counter() - started
            assert count == 200
            assert first_at is not None and first_at < total / 3, "outcomes arrive before the job ends"

            async def consume() -> None:
                async for _ in client.iter_link_many(rows, **LINK, batch_size=10, concurrency=1):
                    pass

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.35)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            sent = len(api_puts(emu))
            await asyncio.sleep(0.5)
            assert len(api_puts(emu)) <= sent + 1, "the job stopped sending when its task was cancelled"

        asyncio.run(main())


def test_async_client_pickles_like_its_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    with Emulator() as emu:
        for key, value in emu.client_options().items():
            monkeypatch.setenv(f"ZOHO_{key.upper()}", value)
        client = AsyncClient.from_env(max_retries=1)
        back = pickle.loads(pickle.dumps(client))
        assert isinstance(back, AsyncClient) and back.base_url == emu.base_url

        async def main() -> None:
            result = await back.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
            assert result.all_succeeded

        asyncio.run(main())
