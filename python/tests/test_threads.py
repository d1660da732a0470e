"""The GIL is released around every call that does I/O: threads sharing one client overlap their calls."""

from __future__ import annotations

import threading
import time

from conftest import CONTACT, DEAL3

from zcrm_extid.testing import Emulator

LATENCY_MS = 200


def test_eight_threads_share_one_client_in_parallel():
    with Emulator(latency_ms=LATENCY_MS) as emu:
        client = emu.client()
        client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])  # fetch the token once
        results: list = []
        errors: list = []

        def work() -> None:
            try:
                results.append(client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]))
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        print(f"8 threads x {LATENCY_MS} ms: {elapsed:.3f} s")
        assert not errors, errors
        assert len(results) == 8 and all(r.all_succeeded for r in results)
        assert elapsed < 1.0, f"{elapsed:.3f} s: calls did not overlap (serial would be {8 * LATENCY_MS / 1000} s)"
        assert emu.stats()["max_in_flight"] >= 2
        assert emu.stats()["tokens_issued"] == 1


def test_other_python_threads_run_while_a_call_waits():
    with Emulator(latency_ms=300) as emu:
        client = emu.client()
        client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
        ticks = 0
        stop = threading.Event()

        def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                time.sleep(0.01)

        t = threading.Thread(target=ticker)
        t.start()
        try:
            client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
        finally:
            stop.set()
            t.join()
        assert ticks >= 10, f"only {ticks} ticks: the call held the GIL"
