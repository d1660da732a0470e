"""The language-neutral records cases in tests/conformance/records_*.json (format: tests/conformance/README.md),
shared with the Rust and Node suites.

* records_requests.json: built through `Client(...).prepare_records`; the client adds `Authorization` only when
  it sends, so the prepared headers are compared without it.
* records_responses.json: served verbatim by the emulator (a status fault with the case's status and body) and
  read by a real `upsert_records` (writes) or `get_records` (reads) call.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Dict, List

import pytest
from conftest import PAGE_TOKEN

from zcrm_extid import Client, error_from_code
from zcrm_extid.exceptions import InvalidConfigError, InvalidInputError, UnexpectedResponseError, ZcrmError

DIR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "conformance"
REQUEST_KEYS = {"name", "note", "input", "expected", "expected_error"}
INPUT_KEYS = {"base_url", "api_version", "access_token", "operation", "module", "records", "key", "id", "ids",
              "values", "fields", "page", "per_page", "page_token", "external_fields", "duplicate_check_fields"}
RESPONSE_KEYS = {"name", "note", "kind", "status", "content_type", "body", "records_sent", "expected"}
OUTCOME_KEYS = {"index", "ok", "code", "message", "details", "id", "action", "duplicate_field"}
ERROR_KEYS = {"kind", "code", "status", "message", "details", "body_prefix"}


def load(name: str) -> List[Dict[str, Any]]:
    cases = json.loads((DIR / name).read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases, f"{name} has no cases"
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), f"{name}: duplicate case names"
    return cases


def unknown(obj: Dict[str, Any], known: set, where: str) -> None:
    extra = set(obj) - known
    assert not extra, f"{where}: unknown key(s) {sorted(extra)}"


REQUESTS = load("records_requests.json")
RESPONSES = load("records_responses.json")


@pytest.mark.parametrize("case", REQUESTS, ids=[c["name"] for c in REQUESTS])
def test_records_request_case(case):
    unknown(case, REQUEST_KEYS, case["name"])
    inp = dict(case["input"])
    unknown(inp, INPUT_KEYS, "input")
    settings = {"base_url": inp.pop("base_url"), "api_version": inp.pop("api_version")}
    token = inp.pop("access_token")
    operation, module = inp.pop("operation"), inp.pop("module")

    def build():
        return Client(token, **settings).prepare_records(operation, module, **inp)

    if "expected" in case:
        want = case["expected"]
        got = build()
        assert (got.method, got.url, got.body) == (want["method"], want["url"], want["body"])
        assert got.headers == [tuple(h) for h in want["headers"] if h[0] != "Authorization"]
        assert token not in got.to_curl() + repr(got)
    else:
        want = case["expected_error"]
        with pytest.raises(ZcrmError) as e:
            build()
        err = e.value
        assert err.code == want["code"], str(err)
        if want["code"] == "INVALID_INPUT":
            assert isinstance(err, InvalidInputError) and err.location == want["location"], str(err)
        else:
            assert isinstance(err, InvalidConfigError) and err.setting == want["location"], str(err)


def check_error(err: ZcrmError, want: Dict[str, Any]) -> None:
    unknown(want, ERROR_KEYS, "error")
    assert (err.code, err.status) == (want["code"], want["status"]), repr(err)
    if want["kind"] == "Api":
        assert type(err) is type(error_from_code(want["code"], want["status"])), repr(err)
        if "message" in want:
            assert err.message == want["message"]
        if "details" in want:
            assert err.details == want["details"]
    else:
        assert type(err) is UnexpectedResponseError, repr(err)
        if "body_prefix" in want:
            assert err.body_prefix == want["body_prefix"]


@pytest.mark.parametrize("case", RESPONSES, ids=[c["name"] for c in RESPONSES])
def test_records_response_case(zcrm_emulator, case):
    unknown(case, RESPONSE_KEYS, case["name"])
    expected = case["expected"]
    zcrm_emulator.push_fault(
        kind="status", status=case["status"], body=case["body"], content_type=case["content_type"], forever=True
    )
    client = zcrm_emulator.client(access_token=PAGE_TOKEN, max_retries=0)
    if case["kind"] == "write":
        unknown(expected, {"outcomes", "error"}, "expected")
        records = [{"Last_Name": str(i)} for i in range(case["records_sent"])]
        if "error" in expected:
            with pytest.raises(ZcrmError) as e:
                client.upsert_records("Contacts", records)
            check_error(e.value, expected["error"])
            return
        result = client.upsert_records("Contacts", records)
        assert result.status == case["status"] and len(result) == len(expected["outcomes"])
        for i, (got, want) in enumerate(zip(result, expected["outcomes"])):
            unknown(want, OUTCOME_KEYS, f"outcomes[{i}]")
            assert (got.index, got.ok, got.code) == (i, want["ok"], want["code"])
            for attr in ("message", "details", "id", "action", "duplicate_field"):
                if attr in want:
                    assert getattr(got, attr) == want[attr], attr
    else:
        assert case["kind"] == "read"
        unknown(expected, {"records", "more_records", "error"}, "expected")
        if "error" in expected:
            with pytest.raises(ZcrmError) as e:
                client.get_records("Contacts", ["a"], key="External_Contact_ID")
            check_error(e.value, expected["error"])
            return
        page = client.get_records("Contacts", ["a"], key="External_Contact_ID")
        assert page.records == expected["records"]
        assert page.more_records == expected.get("more_records", False)
