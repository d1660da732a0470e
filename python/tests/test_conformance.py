"""The language-neutral cases in tests/conformance/ (format: tests/conformance/README.md), shared with the Rust
and Node suites.

* requests.json: built through `Client(...).prepare_update_related` and the module-level
  `prepare_update_related`; the token is compared redacted (the Python API never exposes it). Reads and
  unlinks (`"operation"`) through `Client(...).prepare_get_related` / `prepare_delete_related`.
* responses.json: served verbatim by the emulator (a status fault with the case's status and body) and read by
  a real `Client.update_related` call, so each case also checks the exception class and attributes the binding
  raises. Reads through `Client.get_related`, unlinks through `Client.delete_related`.

Every case runs; a missing or empty file, or a case with an unknown key, fails.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Dict, List

import pytest
from conftest import PAGE_TOKEN

import zcrm_extid
from zcrm_extid import Client, External, error_from_code
from zcrm_extid.exceptions import ApiError, InvalidConfigError, InvalidInputError, UnexpectedResponseError, ZcrmError

DIR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "conformance"

REQUEST_KEYS = {"name", "note", "operation", "input", "expected", "expected_error"}
COMMON_INPUT_KEYS = {"base_url", "api_version", "access_token", "module", "parent", "related_list", "related_module",
                     "related_field"}
INPUT_KEYS = COMMON_INPUT_KEYS | {"records", "records_repeat"}
GET_INPUT_KEYS = COMMON_INPUT_KEYS | {"related", "ids", "fields", "page", "per_page", "page_token", "if_modified_since"}
DELETE_INPUT_KEYS = COMMON_INPUT_KEYS | {"values"}
READ_OPERATIONS = {"get_related", "delete_related"}
EXPECTED_KEYS = {"method", "url", "headers", "body"}
ERROR_KEYS = {"code", "location"}
RESPONSE_KEYS = {"name", "note", "operation", "status", "content_type", "body", "records_sent", "expected"}
INFO_KEYS = ["per_page", "count", "page", "more_records", "next_page_token", "previous_page_token", "page_token_expiry"]
OUTCOME_KEYS = {"index", "ok", "code", "message", "details"}
RESPONSE_ERROR_KEYS = {"kind", "code", "status", "message", "details", "body_prefix"}


def load(name: str) -> List[Dict[str, Any]]:
    path = DIR / name
    cases = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases, f"{path} has no cases"
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), f"{path}: duplicate case names"
    return cases


def unknown(obj: Dict[str, Any], known: set, where: str) -> None:
    extra = set(obj) - known
    assert not extra, f"{where}: unknown key(s) {sorted(extra)}"


def records_of(inp: Dict[str, Any]) -> List[Any]:
    if "records" in inp:
        assert "records_repeat" not in inp
        return inp["records"]
    rep = inp["records_repeat"]
    unknown(rep, {"template", "count", "key"}, "records_repeat")
    prefix = rep["template"][rep["key"]]
    assert isinstance(prefix, str)
    return [{**rep["template"], rep["key"]: f"{prefix}{i}"} for i in range(rep["count"])]


def parent_of(p: Dict[str, str]) -> Any:
    unknown(p, {"id", "field", "value"}, "parent")
    return p["id"] if "id" in p else External(p["field"], p["value"])


def redacted(headers: List[List[str]]) -> List[tuple]:
    return [(n, "Zoho-oauthtoken ***" if n == "Authorization" else v) for n, v in headers]


# A missing or malformed file fails collection; only a folder without any JSON yet is skipped.
HAS_CASES = DIR.is_dir() and any(DIR.glob("*.json"))
REQUEST_CASES = load("requests.json") if HAS_CASES else []
RESPONSE_CASES = load("responses.json") if HAS_CASES else []


def test_conformance_files_exist():
    if not HAS_CASES:
        pytest.skip(f"no conformance cases in {DIR} yet (tests/conformance/*.json)")
    assert REQUEST_CASES and RESPONSE_CASES
    assert any("expected" in c for c in REQUEST_CASES) and any("expected_error" in c for c in REQUEST_CASES)


def check_read_request(case: Dict[str, Any]) -> None:
    """get_related / delete_related: through `Client.prepare_get_related` / `prepare_delete_related`."""
    inp = case["input"]
    get = case["operation"] == "get_related"
    unknown(inp, GET_INPUT_KEYS if get else DELETE_INPUT_KEYS, "input")
    client_settings = {"base_url": inp["base_url"], "api_version": inp["api_version"]}
    kwargs = {k: inp[k] for k in ("related_field", "related_module") if k in inp}

    def build():
        client = Client(inp["access_token"], **client_settings)
        parent = parent_of(inp["parent"])
        if get:
            extra = {k: inp[k] for k in GET_INPUT_KEYS - COMMON_INPUT_KEYS if k in inp}
            return client.prepare_get_related(inp["module"], parent, inp["related_list"], **kwargs, **extra)
        return client.prepare_delete_related(inp["module"], parent, inp["related_list"], inp["values"], **kwargs)

    if "expected" in case:
        want = case["expected"]
        unknown(want, EXPECTED_KEYS, "expected")
        prepared = build()
        assert (prepared.method, prepared.url, prepared.body) == (want["method"], want["url"], want["body"])
        assert ["Authorization", "Zoho-oauthtoken " + inp["access_token"]] in want["headers"]
        # The client adds Authorization when it sends; its prepared request shows the other headers.
        assert prepared.headers == [tuple(h) for h in want["headers"] if h[0] != "Authorization"]
    else:
        want = case["expected_error"]
        unknown(want, ERROR_KEYS, "expected_error")
        with pytest.raises(ZcrmError) as e:
            build()
        assert e.value.code == want["code"], str(e.value)
        assert isinstance(e.value, InvalidInputError) and e.value.location == want["location"], str(e.value)


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c["name"] for c in REQUEST_CASES])
def test_request_case(case):
    unknown(case, REQUEST_KEYS, case["name"])
    assert case.get("operation", "update_related") in READ_OPERATIONS | {"update_related"}
    assert ("expected" in case) != ("expected_error" in case), "exactly one of expected / expected_error"
    if case.get("operation") in READ_OPERATIONS:
        return check_read_request(case)
    inp = case["input"]
    unknown(inp, INPUT_KEYS, "input")
    assert ("expected" in case) != ("expected_error" in case), "exactly one of expected / expected_error"
    args = (inp["module"], parent_of(inp["parent"]), inp["related_list"], records_of(inp))
    kwargs = {"related_field": inp.get("related_field"), "related_module": inp.get("related_module")}
    settings = {"base_url": inp["base_url"], "api_version": inp["api_version"]}

    def via_client():
        return Client(inp["access_token"], **settings).prepare_update_related(*args, **kwargs)

    def via_function():
        return zcrm_extid.prepare_update_related(*args, **kwargs, **settings, access_token=inp["access_token"])

    if "expected" in case:
        want = case["expected"]
        unknown(want, EXPECTED_KEYS, "expected")
        offline = via_function()
        assert (offline.method, offline.url, offline.body) == (want["method"], want["url"], want["body"])
        assert offline.headers == redacted(want["headers"])
        client_made = via_client()
        # The client adds Authorization when it sends; its prepared request shows the other headers.
        assert client_made.headers == [h for h in redacted(want["headers"]) if h[0] != "Authorization"]
        assert (client_made.method, client_made.url, client_made.body) == (want["method"], want["url"], want["body"])
        for prepared in (offline, client_made):
            assert inp["access_token"]
            assert inp["access_token"] not in prepared.to_curl() + repr(prepared) + str(prepared.headers)
    else:
        want = case["expected_error"]
        unknown(want, ERROR_KEYS, "expected_error")
        for build in (via_client, via_function):
            with pytest.raises(ZcrmError) as e:
                build()
            err = e.value
            assert err.code == want["code"], str(err)
            if want["code"] == "INVALID_INPUT":
                assert isinstance(err, InvalidInputError) and err.location == want["location"], str(err)
            else:
                assert isinstance(err, InvalidConfigError) and err.setting == want["location"], str(err)
            if inp["access_token"]:
                assert inp["access_token"] not in str(err) + repr(err)


def check_error(err: ZcrmError, want: Dict[str, Any]) -> None:
    unknown(want, RESPONSE_ERROR_KEYS, "error")
    assert (err.code, err.status) == (want["code"], want["status"]), repr(err)
    if want["kind"] == "Api":
        # The class the native mapping picks for this code and status (test_error_codes.py checks that mapping).
        assert type(err) is type(error_from_code(want["code"], want["status"])), repr(err)
        assert isinstance(err, ApiError)
        if "message" in want:
            assert err.message == want["message"]
        if "details" in want:
            assert err.details == (want["details"] or {})
    else:
        assert want["kind"] == "UnexpectedResponse"
        assert type(err) is UnexpectedResponseError, repr(err)
        if "body_prefix" in want:
            assert err.body_prefix == want["body_prefix"]


def check_read_response(client: Client, case: Dict[str, Any]) -> None:
    """get_related: a real `Client.get_related` call answered with the case's status and body."""
    expected = case["expected"]
    unknown(expected, {"rows", "info", "not_modified", "error"}, "expected")
    assert "records_sent" not in case
    assert ("rows" in expected) != ("error" in expected)

    def send():
        return client.get_related("Contacts", "111111000000085009", "Deals", fields="Deal_Name")

    if "rows" in expected:
        result = send()
        for i, row in enumerate(expected["rows"]):
            unknown(row, {"id", "fields"}, f"rows[{i}]")
        assert [{"id": r.id, "fields": r.fields} for r in result] == expected["rows"]
        info = None if result.info is None else {k: getattr(result.info, k) for k in INFO_KEYS}
        assert info == expected["info"]
        assert result.not_modified == expected["not_modified"]
    else:
        with pytest.raises(ZcrmError) as e:
            send()
        check_error(e.value, expected["error"])


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=[c["name"] for c in RESPONSE_CASES])
def test_response_case(zcrm_emulator, case):
    unknown(case, RESPONSE_KEYS, case["name"])
    operation = case.get("operation", "update_related")
    assert operation in READ_OPERATIONS | {"update_related"}
    zcrm_emulator.push_fault(
        kind="status", status=case["status"], body=case["body"], content_type=case["content_type"], forever=True
    )
    client = zcrm_emulator.client(access_token=PAGE_TOKEN, max_retries=0)
    if operation == "get_related":
        return check_read_response(client, case)
    expected = case["expected"]
    unknown(expected, {"outcomes", "error"}, "expected")
    assert ("outcomes" in expected) != ("error" in expected)
    ids = [str(111111000000000000 + i) for i in range(case["records_sent"])]

    def send():
        if operation == "delete_related":
            return client.delete_related("Contacts", "111111000000085009", "Deals", ids)
        return client.update_related("Contacts", "111111000000085009", "Deals", [{"id": i} for i in ids])

    if "outcomes" in expected:
        result = send()
        assert len(result) == len(expected["outcomes"])
        for i, (got, want) in enumerate(zip(result, expected["outcomes"])):
            unknown(want, OUTCOME_KEYS, f"outcomes[{i}]")
            assert want["index"] == i
            assert (got.index, got.ok, got.code) == (want["index"], want["ok"], want["code"])
            if "message" in want:
                assert got.message == want["message"]
            if "details" in want:
                assert got.details == (want["details"] or {})
        assert result.status == case["status"]
    else:
        with pytest.raises(ZcrmError) as e:
            send()
        check_error(e.value, expected["error"])
