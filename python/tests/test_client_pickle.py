"""Pickling a Client (the choice, documented on zcrm_extid and Client): a client made by `Client.from_env(...)`
pickles as that call, never with a secret; unpickling reads the credentials from the receiving process's
environment. Any other client refuses with a TypeError saying what to do."""

from __future__ import annotations

import multiprocessing
import pickle

import pytest
from conftest import CONTACT, DEAL3, REFRESH, SECRET

from zcrm_extid import Client
from zcrm_extid.testing import Emulator


def env_for(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in emu.client_options().items():
        monkeypatch.setenv(f"ZOHO_{key.upper()}", value)


def test_a_from_env_client_pickles_without_secrets_and_works_after(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu:
        env_for(emu, monkeypatch)
        client = Client.from_env(max_retries=2, read_timeout=5.0, api_version="v8")
        data = pickle.dumps(client)
        assert SECRET.encode() not in data and REFRESH.encode() not in data
        back = pickle.loads(data)
        assert (back.base_url, back.api_version) == (client.base_url, "v8")
        assert back.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded


def _link_in_a_worker(client: Client) -> bool:
    return client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]).all_succeeded


def test_a_pool_of_processes_takes_a_from_env_client(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu:
        env_for(emu, monkeypatch)
        client = Client.from_env()
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            assert pool.map(_link_in_a_worker, [client, client]) == [True, True]


def test_unpickling_reads_the_receiving_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu:
        env_for(emu, monkeypatch)
        data = pickle.dumps(Client.from_env())
        monkeypatch.delenv("ZOHO_CLIENT_SECRET")
        with pytest.raises(ValueError, match="client_secret"):
            pickle.loads(data)


def test_a_client_with_explicit_secrets_refuses_to_pickle() -> None:
    with Emulator() as emu:
        for client in (emu.client(), Client("1000.static.token", base_url=emu.base_url)):
            with pytest.raises(TypeError, match="from_env") as e:
                pickle.dumps(client)
            assert SECRET not in str(e.value) and "1000.static.token" not in str(e.value)


def test_a_proxy_with_credentials_is_not_pickled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOHO_ACCESS_TOKEN", "1000.t")
    client = Client.from_env(proxy="http://user:pw@proxy.example:3128")
    with pytest.raises(TypeError, match="ZOHO_PROXY"):
        pickle.dumps(client)
