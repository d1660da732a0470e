"""The seed page's three cases and plain ids, partial results, and the result types, against the emulator."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import pytest
from conftest import CONTACT, DEAL2, DEAL3, ROLE, api_puts

import zcrm_extid
from zcrm_extid import External, Outcome, UpdateResult
from zcrm_extid.testing import Emulator


def test_case_a_contact_and_deal_both_by_external_id(zcrm_emulator):
    client = zcrm_emulator.client()
    result = client.update_related(
        "Contacts",
        External("External_Contact_ID", "extcontact3"),
        "Deals",
        [{"External_Deal_ID": "extdeal3", "Contact_Role": ROLE}],
        related_field="External_Deal_ID",
    )
    assert isinstance(result, UpdateResult)
    assert (result.status, len(result), result.all_succeeded, result.succeeded, result.failed) == (200, 1, True, 1, 0)
    outcome = result[0]
    assert isinstance(outcome, Outcome)
    assert (outcome.index, outcome.ok, outcome.code, outcome.message) == (0, True, "SUCCESS", "relation added")
    assert outcome.id == DEAL3 and isinstance(outcome.id, str)
    assert outcome.details == {"External_Deal_ID": "extdeal3", "id": DEAL3}
    assert outcome.status is None
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == [(DEAL3, {"Contact_Role": ROLE})]
    sent = api_puts(zcrm_emulator)[0]
    assert sent["path"] == "/crm/v5/Contacts/extcontact3/Deals"
    assert ["x-external", "Contacts.External_Contact_ID,Deals.External_Deal_ID"] in sent["headers"]


def test_case_b_contact_by_id_deal_by_external_id(zcrm_emulator):
    client = zcrm_emulator.client()
    result = client.update_related(
        "Contacts", CONTACT, "Deals", [{"Contact_Role": ROLE, "External_Deal_ID": "extdeal2"}],
        related_field="External_Deal_ID",
    )
    assert result[0].id == DEAL2
    assert zcrm_emulator.related("Deals", DEAL2, "Contacts") == [(CONTACT, {"Contact_Role": ROLE})]
    sent = api_puts(zcrm_emulator)[0]
    assert sent["path"] == f"/crm/v5/Contacts/{CONTACT}/Deals"
    assert ["x-external", "Deals.External_Deal_ID"] in sent["headers"]


def test_case_c_contact_by_external_id_deal_by_id(zcrm_emulator):
    client = zcrm_emulator.client()
    result = client.update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals", [{"id": DEAL3}]
    )
    assert result.all_succeeded and result[0].id == DEAL3
    assert [r[0] for r in zcrm_emulator.related("Contacts", CONTACT, "Deals")] == [DEAL3]
    sent = api_puts(zcrm_emulator)[0]
    assert ["x-external", "Contacts.External_Contact_ID"] in sent["headers"]


def test_plain_ids_send_no_x_external(zcrm_emulator):
    client = zcrm_emulator.client()
    result = client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL2, "Contact_Role": ROLE}])
    assert result.all_succeeded
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == [(DEAL2, {"Contact_Role": ROLE})]
    sent = api_puts(zcrm_emulator)[0]
    assert not any(name == "x-external" for name, _ in sent["headers"])


def test_integer_parent_id_is_sent_as_text(zcrm_emulator):
    # Data frames hold ids as integers; the parent is converted to its decimal text.
    result = zcrm_emulator.client().update_related("Contacts", int(CONTACT), "Deals", [{"id": DEAL3}])
    assert result.all_succeeded


def test_partial_success_is_outcomes_in_input_order_not_an_exception(zcrm_emulator):
    client = zcrm_emulator.client()
    result = client.update_related(
        "Contacts",
        External("External_Contact_ID", "extcontact3"),
        "Deals",
        [
            {"External_Deal_ID": "nope"},
            {"External_Deal_ID": "extdeal3"},
            {"External_Deal_ID": "extdeal2", "Unknown_Field": 1},
        ],
        related_field="External_Deal_ID",
    )
    assert result.status == 207
    assert [o.code for o in result] == ["INVALID_DATA", "SUCCESS", "INVALID_DATA"]
    assert [o.index for o in result.outcomes] == [0, 1, 2]
    assert (result.all_succeeded, result.succeeded, result.failed) == (False, 1, 2)
    first = result[0]
    assert not first.ok and first.status == 207 and first.id is None
    assert first.details["json_path"] == "$.data[0].External_Deal_ID"
    assert result[-1] is not None and result[-1].index == 2
    with pytest.raises(IndexError):
        result[3]
    assert "INVALID_DATA" in repr(first) and "index=0" in repr(first)
    assert repr(result) == "UpdateResult(status=207, succeeded=1, failed=2)"
    assert [r[0] for r in zcrm_emulator.related("Contacts", CONTACT, "Deals")] == [DEAL3]


def test_all_failed_with_a_data_array_is_still_a_result(zcrm_emulator):
    result = zcrm_emulator.client().update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
        [{"External_Deal_ID": "x"}], related_field="External_Deal_ID",
    )
    assert result.status == 400 and not result.all_succeeded and result.failed == 1


def test_records_may_be_any_iterable_of_mappings(zcrm_emulator):
    client = zcrm_emulator.client()

    def gen():
        yield OrderedDict([("External_Deal_ID", "extdeal3"), ("Contact_Role", ROLE)])
        yield {"External_Deal_ID": "extdeal2"}

    result = client.update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals", gen(), related_field="External_Deal_ID"
    )
    assert result.all_succeeded and len(result) == 2
    # Field order is kept as the user wrote it.
    assert api_puts(zcrm_emulator)[0]["body"] == (
        '{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"111111000000026002"},{"External_Deal_ID":"extdeal2"}]}'
    )


def test_odd_external_values_address_exactly_their_record(zcrm_emulator):
    value = "ERP/7?x=1#frag 100% ü"
    [contact] = zcrm_emulator.insert_records("Contacts", [{"External_Contact_ID": value, "Last_Name": "Odd"}])
    assert zcrm_emulator.find_external("Contacts", "External_Contact_ID", value) == contact
    client = zcrm_emulator.client()
    assert client.update_related("Contacts", External("External_Contact_ID", value), "Deals", [{"id": DEAL3}])[0].ok
    assert [r[0] for r in zcrm_emulator.related("Contacts", contact, "Deals")] == [DEAL3]
    assert zcrm_emulator.related("Contacts", CONTACT, "Deals") == []


def test_external_is_an_immutable_value():
    a = External("External_Contact_ID", "extcontact3")
    assert a == External("External_Contact_ID", "extcontact3") and hash(a) == hash(External(a.field, a.value))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.value = "x"  # type: ignore[misc]


def test_prepare_update_related_does_no_io(zcrm_emulator):
    client = zcrm_emulator.client()
    prepared = client.prepare_update_related(
        "Contacts", External("External_Contact_ID", "ERP/7"), "Deals",
        [{"External_Deal_ID": "extdeal3"}], related_field="External_Deal_ID",
    )
    assert prepared.method == "PUT"
    assert prepared.url == f"{zcrm_emulator.base_url}/crm/v5/Contacts/ERP%2F7/Deals"
    assert prepared.headers == [
        ("X-EXTERNAL", "Contacts.External_Contact_ID,Deals.External_Deal_ID"),
        ("Content-Type", "application/json"),
    ]
    assert prepared.body == '{"data":[{"External_Deal_ID":"extdeal3"}]}'
    assert "Zoho-oauthtoken ***" in prepared.to_curl()
    assert zcrm_emulator.journal() == [], "no token fetch, no call"


def test_module_level_prepare_uses_the_data_centre_and_redacts_the_token():
    prepared = zcrm_extid.prepare_update_related(
        "Contacts", CONTACT, "Deals", [{"id": DEAL3}],
        data_center="eu", environment="sandbox", api_version="v8", access_token="1000.secret.token",
    )
    assert prepared.url == f"https://sandbox.zohoapis.eu/crm/v8/Contacts/{CONTACT}/Deals"
    assert prepared.headers[0] == ("Authorization", "Zoho-oauthtoken ***")
    assert "1000.secret.token" not in prepared.to_curl() + repr(prepared) + str(prepared.headers)
    defaults = zcrm_extid.prepare_update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    assert defaults.url == f"https://www.zohoapis.com/crm/v5/Contacts/{CONTACT}/Deals"
    assert defaults.headers == [("Content-Type", "application/json")]
    curl = defaults.to_curl()
    assert curl.startswith(f"curl 'https://www.zohoapis.com/crm/v5/Contacts/{CONTACT}/Deals'")
    assert "--data-binary '{\"data\":[{\"id\":\"111111000000094028\"}]}'" in curl


def test_client_settings_and_repr():
    client = zcrm_extid.Client("1000.tok", data_center="jp", environment="sandbox", api_version="v8")
    assert client.base_url == "https://sandbox.zohoapis.jp"
    assert client.api_version == "v8"
    assert repr(client) == "Client(base_url='https://sandbox.zohoapis.jp', api_version='v8')"
    assert zcrm_extid.Client("t").base_url == "https://www.zohoapis.com"


def test_client_from_env(monkeypatch):
    monkeypatch.setenv("ZOHO_ACCESS_TOKEN", "1000.env")
    monkeypatch.setenv("ZOHO_DC", "in")
    assert zcrm_extid.Client.from_env().base_url == "https://www.zohoapis.in"
    monkeypatch.setenv("ZOHO_DC", "mars")
    with pytest.raises(zcrm_extid.InvalidConfigError) as e:
        zcrm_extid.Client.from_env()
    assert e.value.setting == "data_center"


def test_retries_are_the_cores(zcrm_emulator):
    zcrm_emulator.push_fault(kind="status", status=500)
    zcrm_emulator.push_fault({"kind": "drop"})
    result = zcrm_emulator.client().update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    assert result.all_succeeded
    assert [e["status"] for e in api_puts(zcrm_emulator)] == [500, 0, 200]


def test_an_expired_token_is_refreshed_once(zcrm_emulator):
    client = zcrm_emulator.client()
    client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL3}])
    zcrm_emulator.expire_tokens()
    assert client.update_related("Contacts", CONTACT, "Deals", [{"id": DEAL2}]).all_succeeded
    assert zcrm_emulator.stats()["tokens_issued"] == 2


def test_ctrl_c_stops_a_single_call_waiting_to_retry():
    import os
    import signal
    import threading
    import time

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    with Emulator() as emu:
        emu.push_fault(kind="status", status=500, forever=True)
        # Eight retries with backoff up to 10 s each: about 18 s of sleeping, unless Ctrl-C cuts it short.
        client = emu.client(max_retries=8)
        timer = threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.perf_counter()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.update_related("Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
                                      [{"External_Deal_ID": "extdeal3"}], related_field="External_Deal_ID")
        finally:
            timer.cancel()
        assert time.perf_counter() - started < 1.5
