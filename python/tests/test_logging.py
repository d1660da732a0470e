"""The core's events in Python's ``logging`` (loggers ``zcrm_extid.*``), the job metrics of ``BulkSummary``,
no secret or value in any record, and a slow or blocked handler never blocking (or deadlocking) a job."""

from __future__ import annotations

import logging
import threading
import time
from typing import Dict, Iterator, List

import pytest
from conftest import REFRESH, SECRET

from zcrm_extid import External, JobMetrics
from zcrm_extid.testing import Emulator

PARENT = "Contacts.External_Contact_ID"
RELATED = "Deals.External_Deal_ID"
ROLE = "role-value-4b1c"


def seed(emu: Emulator, contacts: int, deals: int) -> None:
    emu.insert_records("Contacts", [{"External_Contact_ID": f"contact-ext-{i}"} for i in range(contacts)])
    emu.insert_records("Deals", [{"External_Deal_ID": f"deal-ext-{i}"} for i in range(deals)])


def rows(n: int, per_parent: int) -> Iterator[Dict[str, object]]:
    for i in range(n):
        yield {"External_Contact_ID": f"contact-ext-{i // per_parent}", "External_Deal_ID": f"deal-ext-{i}",
               "Contact_Role": ROLE}


def events(caplog: pytest.LogCaptureFixture, name: str) -> List[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_caplog_sees_a_call_with_its_fields(zcrm_emulator, caplog):
    caplog.set_level(logging.DEBUG)
    client = zcrm_emulator.client()
    client.update_related("Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
                          [{"External_Deal_ID": "extdeal3"}], related_field="External_Deal_ID")
    # The records of a call are in the logs when it returns.
    names = [r.event for r in caplog.records if r.name.startswith("zcrm_extid.")]
    assert names == ["token.refreshed", "http.request.sent", "http.request.finished"]
    done = events(caplog, "http.request.finished")[0]
    assert (done.name, done.levelno, done.method, done.status, done.attempt, done.records) == (
        "zcrm_extid.http", logging.DEBUG, "PUT", 200, 1, 1)
    assert done.path == "/crm/v5/Contacts/{External_Contact_ID}/Deals" and done.crm_module == "Contacts"
    assert isinstance(done.duration_ms, float) and done.duration_ms > 0
    assert done.getMessage().startswith("PUT /crm/v5/Contacts/{External_Contact_ID}/Deals -> 200 in ")
    token = events(caplog, "token.refreshed")[0]
    assert (token.name, token.levelno, token.replacement) == ("zcrm_extid.auth", logging.INFO, False)


def test_no_handler_is_installed_and_levels_apply_from_the_next_call(zcrm_emulator, caplog):
    for name in ["zcrm_extid", "zcrm_extid.http", "zcrm_extid.retry", "zcrm_extid.auth", "zcrm_extid.bulk"]:
        assert logging.getLogger(name).handlers == []
    client = zcrm_emulator.client()
    call = lambda: client.update_related(  # noqa: E731
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals", [{"External_Deal_ID": "extdeal3"}],
        related_field="External_Deal_ID")
    caplog.set_level(logging.INFO, logger="zcrm_extid")
    call()
    assert events(caplog, "http.request.finished") == [], "debug records are not even built at INFO"
    caplog.set_level(logging.DEBUG, logger="zcrm_extid.http")
    call()
    assert len(events(caplog, "http.request.finished")) == 1


def test_a_job_with_faults_logs_retries_and_its_summary(zcrm_emulator, caplog):
    caplog.set_level(logging.DEBUG)
    seed(zcrm_emulator, 4, 200)
    zcrm_emulator.push_fault(kind="status", status=500, count=2)
    zcrm_emulator.push_fault(kind="status", status=429)
    zcrm_emulator.push_fault(kind="drop")
    report = zcrm_emulator.client().link_many(rows(200, 50), parent=PARENT, related=RELATED,
                                              fields=["Contact_Role"], batch_size=50, concurrency=1)
    s = report.summary
    assert (s.succeeded, s.calls, s.retries) == (200, 8, 4)
    m = s.metrics
    assert isinstance(m, JobMetrics)
    assert m.retries_by_cause == {"429": 1, "5xx": 2, "transport": 1, "timeout": 0}
    assert (m.retries_429, m.retries_5xx, m.retries_transport, m.retries_timeout) == (1, 2, 1, 0)
    assert 0 < m.latency_p50 <= m.latency_p95 <= m.latency_max < 5
    assert m.timed_calls == 8 and m.token_refreshes == 1 and m.credits_used == 6 and m.credits_remaining is None
    assert m.rows_per_sec > 0 and m.backoff_wait > 0 and "JobMetrics(" in repr(m)
    retries = events(caplog, "retry.scheduled")
    assert [r.cause for r in retries] == ["5xx", "5xx", "429", "transport"]
    assert all(r.name == "zcrm_extid.retry" and r.levelno == logging.INFO for r in retries)
    assert len(events(caplog, "http.rate_limited")) == 1
    (finished,) = events(caplog, "job.finished")
    assert (finished.name, finished.rows, finished.retries_5xx, finished.job) == ("zcrm_extid.bulk", 200, 2,
                                                                               events(caplog, "job.started")[0].job)


def test_a_debug_log_of_a_whole_job_holds_no_secret_token_or_value(zcrm_emulator, caplog):
    caplog.set_level(logging.DEBUG)
    seed(zcrm_emulator, 10, 300)
    zcrm_emulator.push_fault(kind="status", status=500, probability=0.2, forever=True)
    client = zcrm_emulator.client(max_retries=8)
    client.link_many(rows(300, 30), parent=PARENT, related=RELATED, fields=["Contact_Role"], batch_size=20)
    zcrm_emulator.expire_tokens()
    client.update_related("Contacts", External("External_Contact_ID", "contact-ext-1"), "Deals",
                          [{"External_Deal_ID": "deal-ext-1", "Contact_Role": ROLE}],
                          related_field="External_Deal_ID")
    ours = [r for r in caplog.records if r.name.startswith("zcrm_extid")]
    assert len(ours) > 30 and any(getattr(r, "event", "") == "retry.scheduled" for r in ours)
    assert sum(getattr(r, "replacement", False) for r in ours) == 1, "the expired token was replaced"
    dump = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for secret in [SECRET, REFRESH, ROLE, "contact-ext-", "deal-ext-", "1000."]:
        assert secret not in dump, secret


def test_a_blocked_handler_neither_blocks_nor_deadlocks_a_job(zcrm_emulator):
    """A handler waiting for a lock the calling thread holds: a bridge that called Python from the workers
    would block every worker on it, and the caller waits for the workers: a deadlock. Here the job ends."""
    seed(zcrm_emulator, 4, 200)
    gate = threading.Lock()
    seen: List[str] = []

    class Blocking(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with gate:
                seen.append(getattr(record, "event", ""))

    logger = logging.getLogger("zcrm_extid")
    handler = Blocking(logging.DEBUG)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        client = zcrm_emulator.client()
        with gate:
            started = time.monotonic()
            report = client.link_many(rows(200, 50), parent=PARENT, related=RELATED, batch_size=10, concurrency=4)
            took = time.monotonic() - started
            assert report.summary.succeeded == 200 and seen == []
        assert report.summary.elapsed < 5, report.summary.elapsed
        assert took < 10, "the call returned (after waiting a bounded time for the blocked handler)"
        deadline = time.monotonic() + 10
        while "job.finished" not in seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen.count("job.finished") == 1 and seen.count("http.request.finished") == 20, seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def test_a_slow_handler_does_not_slow_the_job(zcrm_emulator):
    seed(zcrm_emulator, 4, 400)
    delivered: List[str] = []

    class Slow(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            time.sleep(0.01)
            delivered.append(getattr(record, "event", ""))

    logger = logging.getLogger("zcrm_extid")
    handler = Slow(logging.DEBUG)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        report = zcrm_emulator.client().link_many(rows(400, 100), parent=PARENT, related=RELATED, batch_size=5,
                                                  concurrency=8)
        # 80 calls = 160 request records and a few more: at 10 ms each, a bridge calling Python from the
        # workers would hold the job for at least 1.6 s.
        assert report.summary.succeeded == 400
        assert report.summary.elapsed < 0.5 * 160 * 0.01, report.summary.elapsed
        deadline = time.monotonic() + 20
        while "job.finished" not in delivered and time.monotonic() < deadline:
            time.sleep(0.01)
        assert delivered.count("http.request.finished") == 80 and delivered[-1] == "job.finished"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
