"""Every documented error -> its exact exception class and attributes; pickling of every exception class."""

from __future__ import annotations

import builtins
import json
import pickle
import socket
from typing import Any, Dict

import pytest
from conftest import CONTACT, DEAL3, PAGE_TOKEN, REFRESH, SECRET, api_puts

from zcrm_extid import Client, External, UpdateResult, exceptions
from zcrm_extid.exceptions import (
    ApiError,
    AuthenticationFailureError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    AuthError,
    CancelledError,
    ClientPanicError,
    InternalError,
    InvalidConfigError,
    InvalidDataError,
    InvalidInputError,
    InvalidModuleError,
    InvalidTokenError,
    InvalidUrlPatternError,
    LimitExceededError,
    MandatoryNotFoundError,
    NoPermissionError,
    RateLimitedError,
    ScopeMismatchError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    ZcrmError,
)
from zcrm_extid.testing import Emulator

CASE_A = dict(
    module="Contacts",
    parent=External("External_Contact_ID", "extcontact3"),
    related_list="Deals",
    records=[{"External_Deal_ID": "extdeal3"}],
    related_field="External_Deal_ID",
)


def call(client: Client, **overrides: Any) -> UpdateResult:
    args: Dict[str, Any] = {**CASE_A, **overrides}
    return client.update_related(
        args.pop("module"), args.pop("parent"), args.pop("related_list"), args.pop("records"), **args
    )


# --- errors the emulator produces by itself ---------------------------------------------------------------------


def test_unknown_parent_external_value_is_invalid_data(zcrm_emulator):
    with pytest.raises(InvalidDataError) as e:
        call(zcrm_emulator.client(), parent=External("External_Contact_ID", "ghost"))
    err = e.value
    assert type(err) is InvalidDataError and isinstance(err, ApiError) and isinstance(err, ZcrmError)
    assert (err.status, err.code) == (400, "INVALID_DATA")
    assert err.message == "You have specified an invalid external ID for the base module"
    assert err.details == {"api_name": "External_Contact_ID", "resource_path_index": 1}
    assert err.hint is None
    assert str(err).startswith("INVALID_DATA (HTTP 400): You have specified an invalid external ID")


def test_unknown_related_list_and_missing_record(zcrm_emulator):
    client = zcrm_emulator.client()
    with pytest.raises(InvalidDataError) as e:
        client.update_related("Contacts", CONTACT, "Notes", [{"id": DEAL3}])
    assert e.value.details == {"resource_path_index": 2}
    with pytest.raises(InvalidDataError) as e:
        client.update_related("Contacts", "123", "Deals", [{"id": DEAL3}])
    assert (e.value.status, e.value.message) == (404, "The record does not exist")


def test_invalid_module_and_not_supported(zcrm_emulator):
    client = zcrm_emulator.client()
    with pytest.raises(InvalidModuleError) as e:
        client.update_related("Nope", "1", "Deals", [{"id": "1"}])
    assert (e.value.status, e.value.code, e.value.details) == (400, "INVALID_MODULE", {"resource_path_index": 0})
    with pytest.raises(InvalidModuleError) as e:
        client.update_related("Documents", "1", "Deals", [{"id": "1"}])
    # An unsupported module: Zoho's docs list both codes for it; both are InvalidModuleError.
    assert e.value.status == 400 and e.value.code in ("NOT_SUPPORTED", "INVALID_MODULE")
    # Appointments exist from v3 on.
    old = zcrm_emulator.client(api_version="v2")
    with pytest.raises(InvalidModuleError):
        old.update_related("Appointments__s", "1", "Services__s", [{"id": "1"}])


def test_scope_mismatch_hint_names_the_scopes(zcrm_emulator):
    zcrm_emulator.add_access_token("1000.leads.only", ["ZohoCRM.modules.leads.ALL"])
    client = zcrm_emulator.client(access_token="1000.leads.only")
    with pytest.raises(ScopeMismatchError) as e:
        call(client)
    err = e.value
    assert (err.status, err.code) == (401, "OAUTH_SCOPE_MISMATCH")
    assert err.hint is not None and "ZohoCRM.modules.contacts.UPDATE" in err.hint
    for scope in ("ZohoCRM.modules.contacts.WRITE", "ZohoCRM.modules.contacts.ALL", "ZohoCRM.modules.all"):
        assert scope in err.hint
    assert "ZohoCRM.modules.contacts.UPDATE" in str(err)
    zcrm_emulator.add_access_token("1000.contacts.update", ["ZohoCRM.modules.contacts.UPDATE"])
    assert call(zcrm_emulator.client(access_token="1000.contacts.update")).all_succeeded


def test_no_permission_from_a_read_only_module():
    seed = {
        "modules": {
            "Contacts": {"external_fields": ["External_Contact_ID"], "editable": False,
                         "records": [{"id": CONTACT, "External_Contact_ID": "extcontact3"}]},
            "Deals": {"external_fields": ["External_Deal_ID"],
                      "records": [{"id": DEAL3, "External_Deal_ID": "extdeal3"}]},
        },
        "related_lists": [{"module": "Contacts", "api_name": "Deals", "relation_fields": ["Contact_Role"]}],
        "access_tokens": [{"token": "1000.t", "scopes": ["ZohoCRM.modules.all"]}],
    }
    with Emulator(seed=seed) as emu:
        with pytest.raises(NoPermissionError) as e:
            call(emu.client(access_token="1000.t"))
    assert (e.value.status, e.value.code) == (403, "NO_PERMISSION")
    assert e.value.details == {"permissions": ["Crm_Implied_Edit_Contacts"]}


def test_a_static_token_that_expired_is_invalid_token(zcrm_emulator):
    zcrm_emulator.add_access_token("1000.static", ["ZohoCRM.modules.all"])
    client = zcrm_emulator.client(access_token="1000.static")
    zcrm_emulator.expire_tokens()
    with pytest.raises(InvalidTokenError) as e:
        call(client)
    assert (e.value.status, e.value.code) == (401, "INVALID_TOKEN")
    assert len(api_puts(zcrm_emulator)) == 1, "401s are final for a static token"


def test_a_url_outside_the_api_is_invalid_url_pattern(zcrm_emulator):
    client = Client(PAGE_TOKEN, base_url=zcrm_emulator.base_url + "/elsewhere")
    with pytest.raises(InvalidUrlPatternError) as e:
        call(client)
    assert (e.value.status, e.value.code) == (404, "INVALID_URL_PATTERN")


def test_exhausted_credits_are_rate_limited():
    with Emulator(credits=1) as emu:
        client = emu.client(max_retries=0)
        call(client)
        with pytest.raises(RateLimitedError) as e:
            call(client)
    assert (e.value.status, e.value.code) == (429, "TOO_MANY_REQUESTS")


def test_5xx_after_retries_is_internal_error(zcrm_emulator):
    zcrm_emulator.push_fault(kind="status", status=500, forever=True)
    with pytest.raises(InternalError) as e:
        call(zcrm_emulator.client(max_retries=0))
    assert (e.value.status, e.value.code) == (500, "INTERNAL_ERROR")


def test_html_502_is_unexpected_response_with_status_and_body(zcrm_emulator):
    zcrm_emulator.push_fault(kind="status", status=502, forever=True)
    with pytest.raises(UnexpectedResponseError) as e:
        call(zcrm_emulator.client(max_retries=1))
    err = e.value
    assert (err.status, err.code, err.content_type) == (502, "UNEXPECTED_RESPONSE", "text/html")
    assert err.body_prefix.startswith("<html>") and err.reason
    assert len(api_puts(zcrm_emulator)) == 2, "one attempt + one retry"


def test_204_is_an_api_error_no_content(zcrm_emulator):
    zcrm_emulator.push_fault(kind="status", status=204, body="")
    with pytest.raises(ApiError) as e:
        call(zcrm_emulator.client())
    assert type(e.value) is NotFoundError and (e.value.status, e.value.code) == (204, "NO_CONTENT")
    assert (e.value.category, e.value.retryable) == ("not_found", False)


# Zoho errors the client never provokes by itself (it validates first), answered verbatim by a fault.
ZOHO_BODIES = [
    (400, "MANDATORY_NOT_FOUND", {"api_name": "External_Deal_ID"}, MandatoryNotFoundError),
    (401, "INVALID_OAUTHTOKEN", {}, InvalidTokenError),
    (401, "AUTHENTICATION_FAILURE", {}, AuthenticationFailureError),
    (401, "AUTHENTICATION_FAILED", {}, AuthenticationFailureError),
    (400, "AUTHORIZATION_FAILED", {}, NoPermissionError),
    (400, "LIMIT_EXCEEDED", {"limit": "100"}, LimitExceededError),
    (400, "NOT_SUPPORTED", {"resource_path_index": 0}, InvalidModuleError),
    (400, "INVALID_REQUEST_METHOD", {}, BadRequestError),
    (400, "REQUIRED_PARAM_MISSING", {"param_name": "data"}, BadRequestError),
    (400, "UNABLE_TO_PARSE_DATA_TYPE", {}, BadRequestError),
    (400, "PATTERN_NOT_MATCHED", {"api_name": "Email"}, BadRequestError),
    (403, "FEATURE_NOT_SUPPORTED", {}, ForbiddenError),
    (400, "DUPLICATE_DATA", {"api_name": "External_Deal_ID"}, ConflictError),
    (412, "ALREADY_MODIFIED", {}, ConflictError),
    (400, "BRAND_NEW_ERROR", {"x": [1, 2]}, BadRequestError),  # unknown: by status (a 4xx)
    (401, "NEW_TOKEN_CODE", {}, UnauthorizedError),  # by status
    (404, "GONE_SOMEWHERE", {}, NotFoundError),  # by status
    (429, "SOMETHING_ELSE", {}, RateLimitedError),  # by status
    (503, "SERVICE_DOWN", {}, InternalError),  # by status
    (200, "TOO_MANY_REQUESTS", {}, RateLimitedError),  # by code
]


@pytest.mark.parametrize("status,code,details,cls", ZOHO_BODIES, ids=[c[1] for c in ZOHO_BODIES])
def test_zoho_error_bodies_map_to_their_class(zcrm_emulator, status, code, details, cls):
    body = json.dumps({"code": code, "details": details, "message": f"msg {code}", "status": "error"})
    zcrm_emulator.push_fault(kind="status", status=status, body=body, forever=True)
    with pytest.raises(ApiError) as e:
        call(zcrm_emulator.client(access_token=PAGE_TOKEN, max_retries=0))
    err = e.value
    assert type(err) is cls
    assert (err.status, err.code, err.message, err.details) == (status, code, f"msg {code}", details)
    assert err.retryable == (status in (429, 503) or code == "TOO_MANY_REQUESTS")


# --- the token endpoint ------------------------------------------------------------------------------------------


def test_wrong_client_secret_is_an_auth_error_with_a_hint(zcrm_emulator):
    client = zcrm_emulator.client(client_secret="wrong-secret")
    with pytest.raises(AuthError) as e:
        call(client)
    err = e.value
    assert err.code == "OAUTH_INVALID_CLIENT" and err.error == "invalid_client"
    assert err.hint and "data centre" in err.hint
    assert err.status is not None
    assert api_puts(zcrm_emulator) == [], "nothing is sent without a token"


def test_revoked_refresh_token_is_oauth_invalid_code(zcrm_emulator):
    assert zcrm_emulator.revoke_refresh_token(REFRESH)
    with pytest.raises(AuthError) as e:
        call(zcrm_emulator.client())
    assert e.value.code == "OAUTH_INVALID_CODE" and e.value.error == "invalid_code"


def test_throttled_token_endpoint():
    with Emulator(token_throttle=0) as emu:
        with pytest.raises(AuthError) as e:
            call(emu.client())
    assert e.value.code == "OAUTH_THROTTLED"


# --- the transport ------------------------------------------------------------------------------------------------


def test_refused_connection_is_a_transport_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Client("t", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(TransportError) as e:
        call(client)
    assert e.value.code == "TRANSPORT" and e.value.status is None
    assert (e.value.category, e.value.retryable) == ("network", True)
    # The I/O error underneath is kept as the cause.
    assert isinstance(e.value.__cause__, ConnectionRefusedError), repr(e.value.__cause__)


def test_dropped_connection_is_a_transport_error(zcrm_emulator):
    zcrm_emulator.push_fault(kind="drop", forever=True)
    with pytest.raises(TransportError):
        call(zcrm_emulator.client(max_retries=0))


def test_slow_server_is_a_timeout_error():
    with Emulator(latency_ms=600) as emu:
        client = emu.client(read_timeout=0.15, max_retries=0)
        with pytest.raises(TimeoutError) as e:
            call(client)
    assert isinstance(e.value, builtins.TimeoutError) and isinstance(e.value, ZcrmError)
    assert e.value.code == "TIMEOUT"
    assert isinstance(e.value.__cause__, builtins.TimeoutError) and not isinstance(e.value.__cause__, ZcrmError)


# --- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,setting",
    [
        ({"access_token": "t", "data_center": "mars"}, "data_center"),
        ({"access_token": "t", "environment": "staging"}, "environment"),
        ({"access_token": "t", "api_version": "v1"}, "api_version"),
        ({"access_token": "t", "base_url": "http://proxy.example.com"}, "base_url"),
        ({"access_token": "t", "connect_timeout": -1.0}, "connect_timeout"),
        ({"access_token": "t", "client_id": "x"}, "credentials"),
        ({"client_id": "x", "refresh_token": "r"}, "credentials"),
        ({}, "credentials"),
        ({"access_token": "bad token"}, "access_token"),
    ],
)
def test_invalid_config(kwargs, setting):
    with pytest.raises(InvalidConfigError) as e:
        Client(**kwargs)
    err = e.value
    assert isinstance(err, ValueError)
    assert (err.setting, err.code, err.status) == (setting, "INVALID_CONFIG", None)


# --- pickling -----------------------------------------------------------------------------------------------------

EXAMPLES = [
    ZcrmError("base", code="X", message="m", status=400, details={"a": [1]}),
    InvalidInputError("invalid data[3].F: bad", argument="data", index=3, field="F", location="data[3].F",
                      message="bad"),
    InvalidConfigError("invalid configuration of base_url: no", setting="base_url", message="no"),
    ApiError("X (HTTP 400): m", code="X", message="m", status=400, details={"k": "v"}, hint="h"),
    *[cls("t", code=code, message="m", status=status, details={"d": 1}, hint=None)
      for status, code, _, cls in ZOHO_BODIES],
    InvalidDataError("t", code="INVALID_DATA", status=400, details={"api_name": "F"}),
    InvalidModuleError("t", code="INVALID_MODULE", status=400),
    ScopeMismatchError("t", code="OAUTH_SCOPE_MISMATCH", status=401, hint="needs ZohoCRM.modules.contacts.UPDATE"),
    InvalidUrlPatternError("t", code="INVALID_URL_PATTERN", status=404),
    ConflictError("t", code="DUPLICATE_DATA", category="conflict", status=400),
    ApiError("t", code="X", category="server", retryable=True, status=500),
    AuthError("t", code="OAUTH_INVALID_CLIENT", status=200, error="invalid_client", description="d", hint="h"),
    TransportError("transport error: reset", code="TRANSPORT", message="reset"),
    TimeoutError("timed out: read", code="TIMEOUT", message="read"),
    UnexpectedResponseError("t", status=502, content_type="text/html", body_prefix="<html>", reason="not JSON"),
    CancelledError("cancelled: before it was sent", code="CANCELLED", message="before it was sent"),
    ClientPanicError("internal client error: boom", code="CLIENT_PANIC", message="boom"),
]


def test_every_exception_class_is_covered_by_the_pickle_examples():
    classes = {getattr(exceptions, name) for name in exceptions.__all__}
    assert classes == {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: type(e).__name__ + ":" + e.code)
def test_exceptions_pickle_with_their_attributes(err):
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert type(back) is type(err)
        assert back.__dict__ == err.__dict__
        assert (str(back), back.args) == (str(err), err.args)


def test_raised_exceptions_pickle_too(zcrm_emulator):
    with pytest.raises(InvalidDataError) as e:
        call(zcrm_emulator.client(), parent=External("External_Contact_ID", "ghost"))
    back = pickle.loads(pickle.dumps(e.value))
    assert (type(back), back.status, back.code, back.details, back.message, str(back)) == (
        InvalidDataError, 400, "INVALID_DATA", e.value.details, e.value.message, str(e.value))
    with pytest.raises(InvalidInputError) as e2:
        call(zcrm_emulator.client(), records=[{"Contact_Role": "x"}])
    back2 = pickle.loads(pickle.dumps(e2.value))
    assert (back2.argument, back2.index, back2.field, back2.location) == ("data", 0, "External_Deal_ID",
                                                                          "data[0].External_Deal_ID")


def test_secret_never_in_auth_errors(zcrm_emulator):
    with pytest.raises(AuthError) as e:
        call(zcrm_emulator.client(client_secret="wrong-secret"))
    for text in (str(e.value), repr(e.value), pickle.dumps(e.value).decode("latin-1")):
        assert "wrong-secret" not in text and REFRESH not in text and SECRET not in text
