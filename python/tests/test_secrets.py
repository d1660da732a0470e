"""Secrets never print: not in repr(client), not in errors, not in to_curl() or prepared headers."""

from __future__ import annotations

import pytest
from conftest import CONTACT, DEAL3, REFRESH, SECRET

import zcrm_extid
from zcrm_extid import Client, External
from zcrm_extid.exceptions import ZcrmError

TOKEN = "1000.super.secret.access"


def test_repr_of_clients_shows_no_secret(zcrm_emulator):
    for client in (
        zcrm_emulator.client(),
        Client(TOKEN),
        Client(client_id="1000.ID", client_secret=SECRET, refresh_token=REFRESH),
    ):
        text = repr(client) + str(client)
        assert "base_url=" in text and "api_version=" in text
        for secret in (TOKEN, SECRET, REFRESH):
            assert secret not in text


def test_prepared_requests_show_no_token():
    prepared = zcrm_extid.prepare_update_related(
        "Contacts", External("External_Contact_ID", "c"), "Deals", [{"id": DEAL3}], access_token=TOKEN
    )
    for text in (prepared.to_curl(), repr(prepared), str(prepared.headers), prepared.body, prepared.url):
        assert TOKEN not in text
    assert ("Authorization", "Zoho-oauthtoken ***") in prepared.headers
    assert "-H 'Authorization: Zoho-oauthtoken ***'" in prepared.to_curl()


@pytest.mark.parametrize(
    "make",
    [
        lambda emu: Client(TOKEN + "\n"),  # invalid token: the error names the setting, not the value
        lambda emu: Client(TOKEN, client_secret=SECRET),
        lambda emu: emu.client(client_secret=SECRET + "x").update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]),
        lambda emu: emu.client(access_token=TOKEN).update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}]),
        lambda emu: Client(TOKEN).update_related("Contacts", "x", "Deals", [{"id": DEAL3}]),
    ],
)
def test_errors_show_no_secret(zcrm_emulator, make):
    with pytest.raises(ZcrmError) as e:
        make(zcrm_emulator)
    text = str(e.value) + repr(e.value) + repr(e.value.__dict__)
    for secret in (TOKEN, SECRET, REFRESH):
        assert secret not in text, text


def test_the_journal_redacts_the_authorization_header(zcrm_emulator):
    zcrm_emulator.client().update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    put = [e for e in zcrm_emulator.journal() if e["method"] == "PUT"][0]
    assert ["authorization", "Zoho-oauthtoken ***"] in put["headers"]
