"""zcrm_extid.testing: the in-process emulator and the pytest fixture the package registers."""

from __future__ import annotations

import threading
import urllib.request

import pytest
from conftest import CONTACT, DEAL3, api_puts

import zcrm_extid.testing
from zcrm_extid import Client
from zcrm_extid.exceptions import InvalidTokenError
from zcrm_extid.testing import Emulator


def test_the_fixture_comes_from_the_installed_plugin(request, zcrm_emulator):
    assert isinstance(zcrm_emulator, Emulator)
    plugin = request.config.pluginmanager.get_plugin("zcrm_extid")
    assert plugin is zcrm_extid.testing, "registered through the pytest11 entry point"
    assert zcrm_emulator.base_url.startswith("http://127.0.0.1:")
    assert zcrm_emulator.accounts_url == zcrm_emulator.base_url + "/accounts"


def test_each_test_gets_a_fresh_emulator(zcrm_emulator):
    assert zcrm_emulator.journal() == [] and zcrm_emulator.stats()["api_calls"] == 0
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == []


def test_context_manager_and_stop():
    with Emulator() as emu:
        url = emu.base_url
        assert "Emulator(base_url=" in repr(emu)
        emu.client().update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    assert repr(emu) == "Emulator(stopped)"
    with pytest.raises(RuntimeError, match="stopped"):
        emu.state()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/crm/v5/Contacts", timeout=2)
    emu.stop()  # idempotent


def test_state_stats_journal_reset(zcrm_emulator):
    client = zcrm_emulator.client()
    client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3, "Contact_Role": "r"}])
    state = zcrm_emulator.state()
    assert set(state) >= {"modules", "related_lists", "relations", "stats"}
    assert len(state["relations"]) == 1 and state["stats"]["api_calls"] == 1
    stats = zcrm_emulator.stats()
    assert (stats["api_calls"], stats["tokens_issued"]) == (1, 1)
    journal = zcrm_emulator.journal()
    assert [e["path"] for e in journal] == ["/accounts/oauth/v2/token", f"/crm/v5/Contacts/{CONTACT}/Deals"]
    assert set(journal[1]) == {"method", "path", "query", "headers", "body", "status"}
    zcrm_emulator.clear_journal()
    assert zcrm_emulator.journal() == []
    zcrm_emulator.push_fault(kind="status", status=500, forever=True)
    zcrm_emulator.reset()
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == []
    assert zcrm_emulator.stats()["api_calls"] == 0
    assert client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded, "faults cleared"


def test_faults_by_keywords_or_json(zcrm_emulator):
    client = zcrm_emulator.client(max_retries=0)
    zcrm_emulator.push_fault({"kind": "status", "status": 400, "count": 2, "body": '{"code":"INVALID_DATA",'
                              '"details":{},"message":"m","status":"error"}'})
    for _ in range(2):
        with pytest.raises(Exception):
            client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    assert client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded
    zcrm_emulator.push_fault(kind="latency", ms=50, forever=True)
    zcrm_emulator.push_fault(kind="status", status=503, target="token")
    zcrm_emulator.clear_faults()
    assert client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded
    with pytest.raises(ValueError):
        zcrm_emulator.push_fault(kind="explode")
    with pytest.raises(ValueError):
        zcrm_emulator.push_fault(kind="status", status=500, phase="sometime")


def test_lost_response_after_processing_is_safe_to_retry(zcrm_emulator):
    zcrm_emulator.push_fault(kind="drop", phase="after")
    result = zcrm_emulator.client().update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3, "Contact_Role": "r"}])
    assert result.all_succeeded
    assert [e["status"] for e in api_puts(zcrm_emulator)] == [0, 200]
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == [(DEAL3, {"Contact_Role": "r"})]


def test_tokens(zcrm_emulator):
    zcrm_emulator.add_access_token("1000.short", ["ZohoCRM.modules.all"], expires_in=3600.0)
    client = Client("1000.short", base_url=zcrm_emulator.base_url)
    assert client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded
    zcrm_emulator.expire_tokens()
    with pytest.raises(InvalidTokenError):
        client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    zcrm_emulator.add_refresh_token("1000.OTHER", "other-secret", "1000.other.refresh", ["ZohoCRM.modules.contacts.ALL"])
    other = zcrm_emulator.client(client_id="1000.OTHER", client_secret="other-secret",
                                 refresh_token="1000.other.refresh")
    assert other.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded


def test_insert_and_find_records(zcrm_emulator):
    ids = zcrm_emulator.insert_records("Deals", [{"External_Deal_ID": "n1"}, {"External_Deal_ID": "n2"}])
    assert len(ids) == 2 and all(isinstance(i, str) for i in ids)
    assert zcrm_emulator.find_external("Deals", "External_Deal_ID", "n2") == ids[1]
    assert zcrm_emulator.find_external("Deals", "External_Deal_ID", "none") is None
    with pytest.raises(ValueError):
        zcrm_emulator.insert_records("NoSuchModule", [{"x": 1}])


def test_options_edition_latency_and_seed():
    with Emulator(edition="free", latency_ms=5, latency_max_ms=10, credits=100, token_lifetime=60,
                  token_throttle=3) as emu:
        assert emu.client().update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded
    with pytest.raises(ValueError, match="edition"):
        Emulator(edition="platinum")
    with pytest.raises(ValueError):
        Emulator(seed={"modules": 5})
    with Emulator(seed={"modules": {"Leads": {}}}) as empty:
        assert list(empty.state()["modules"]) == ["Leads"]


def test_emulator_calls_from_many_threads(zcrm_emulator):
    client = zcrm_emulator.client()
    errors: list = []

    def work() -> None:
        try:
            for _ in range(5):
                client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
                zcrm_emulator.stats()
                zcrm_emulator.journal()
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and zcrm_emulator.stats()["api_calls"] == 20
