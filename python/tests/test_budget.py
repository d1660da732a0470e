"""The shared budget from Python: `Client(..., budget="redis://...")` shares one token and the org's limits with
other clients, a job stops at its credit reserve with NOT_ATTEMPTED rows, an unreachable Redis is a typed error
when the client is built. Needs a Redis (`ZCRM_TEST_REDIS_URL`, set by .ci/run): skipped without one, failed
under CI."""

from __future__ import annotations

import os
import uuid

import pytest

from zcrm_extid import Client
from zcrm_extid.exceptions import InvalidConfigError, TransportError
from zcrm_extid.testing import Emulator

PARENT = "Contacts.External_Contact_ID"
RELATED = "Deals.External_Deal_ID"
CLIENT_ID, SECRET, REFRESH = "1000.EMULATORCLIENTID", "emulator-client-secret", "1000.emulator.refresh.token"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("ZCRM_TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("ZCRM_TEST_REDIS_URL is not set (.ci/run starts a redis-server)")
        pytest.skip("no Redis: set ZCRM_TEST_REDIS_URL")
    return url


def budget_client(emu: Emulator, url: str, prefix: str, **kw: object) -> Client:
    return Client(
        client_id=CLIENT_ID, client_secret=SECRET, refresh_token=REFRESH, base_url=emu.base_url,
        accounts_url=emu.accounts_url, budget=url, budget_prefix=prefix, **kw,  # type: ignore[arg-type]
    )


def seed(emu: Emulator, contacts: int, deals: int) -> None:
    emu.insert_records("Contacts", [{"External_Contact_ID": f"c{i}", "Last_Name": f"C{i}"} for i in range(contacts)])
    emu.insert_records("Deals", [{"External_Deal_ID": f"d{i}", "Deal_Name": f"D{i}"} for i in range(deals)])


def test_clients_with_one_budget_share_one_token(zcrm_emulator: Emulator, redis_url: str) -> None:
    seed(zcrm_emulator, 2, 20)
    prefix = f"py-{uuid.uuid4().hex}"
    for k in range(2):
        client = budget_client(zcrm_emulator, redis_url, prefix)
        rows = [{"External_Contact_ID": f"c{k}", "External_Deal_ID": f"d{k * 10 + i}"} for i in range(10)]
        assert client.link_many(rows, parent=PARENT, related=RELATED).summary.succeeded == 10
    assert zcrm_emulator.stats()["tokens_issued"] == 1


def test_the_credit_reserve_stops_the_job_with_not_attempted_rows(redis_url: str) -> None:
    with Emulator(credits=40) as emu:
        seed(emu, 40, 40)
        client = budget_client(emu, redis_url, f"py-{uuid.uuid4().hex}")
        rows = [{"External_Contact_ID": f"c{i}", "External_Deal_ID": f"d{i}"} for i in range(40)]
        report = client.link_many(rows, parent=PARENT, related=RELATED, concurrency=2, reserve=10)
        used = emu.stats()["credits_used"]
        assert used <= 30
        skipped = [o for o in report if o.code == "NOT_ATTEMPTED"]
        assert len(report) == 40 and len(skipped) == 40 - used
        assert skipped[0].details["cause"] == "CREDIT_RESERVE"
        with pytest.raises(InvalidConfigError) as e:
            client.link_many(rows, parent=PARENT, related=RELATED, reserve="10%")
        assert e.value.setting == "reserve"


def test_an_unreachable_redis_is_a_typed_error_when_the_client_is_built(zcrm_emulator: Emulator) -> None:
    with pytest.raises(TransportError) as e:
        budget_client(zcrm_emulator, "redis://:hunter2@127.0.0.1:1/0", "py-nowhere")
    assert e.value.code == "BUDGET_UNAVAILABLE"
    assert "hunter2" not in str(e.value)
    local = budget_client(zcrm_emulator, "redis://127.0.0.1:1/0", "py-nowhere", on_redis_error="local")
    assert local.base_url == zcrm_emulator.base_url
    assert zcrm_emulator.journal() == []
