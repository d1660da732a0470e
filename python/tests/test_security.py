"""Security options and guarantees as Python sees them: the proxy option (plain conversion to the core's),
URLs quoted without credentials, and errors that cannot forge a log line."""

from __future__ import annotations

import pytest

from zcrm_extid import Client, External
from zcrm_extid.exceptions import InvalidConfigError, InvalidInputError


@pytest.mark.parametrize("proxy", ["none", "env", "http://user:pa55@proxy.example:3128", "proxy.example:3128"])
def test_proxy_option_is_accepted(proxy):
    client = Client("1000.t", proxy=proxy)
    assert "pa55" not in repr(client)


@pytest.mark.parametrize(
    "kwargs,setting,secret",
    [
        ({"proxy": "socks5://user:pa55@proxy:1080"}, "proxy", "pa55"),
        ({"base_url": "https://admin:hunter2@crm.example.com"}, "base_url", "hunter2"),
        ({"accounts_url": "https://accounts.example.com?client_secret=q-s3cret"}, "accounts_url", "q-s3cret"),
    ],
)
def test_rejected_urls_are_quoted_without_credentials(kwargs, setting, secret):
    with pytest.raises(InvalidConfigError) as e:
        Client("1000.t", **kwargs)
    assert e.value.setting == setting
    assert secret not in str(e.value) and secret not in e.value.message and secret not in repr(e.value)


@pytest.mark.parametrize("token", ["1000.a\u2028b", "1000.a\u2029b", "1000.\u00e9", "1000.a\u001b[2J"])
def test_tokens_must_be_visible_ascii(token):
    with pytest.raises(InvalidConfigError) as e:
        Client(token)
    assert e.value.setting == "access_token" and token not in str(e.value)


def test_a_field_name_cannot_forge_a_log_line(zcrm_emulator):
    client = zcrm_emulator.client()
    forged = "X\nzcrm: linked\u001b[2K\u2028"
    with pytest.raises(InvalidInputError) as e:
        client.update_related("Contacts", External("External_Contact_ID", "c"), "Deals", [{forged: "1", "id": "1"}])
    text = str(e.value)
    assert len(text.splitlines()) == 1 and "\u001b" not in text and "\u2028" not in text, text
    assert "\\nzcrm:" in text
