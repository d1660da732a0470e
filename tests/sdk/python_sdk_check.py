#!/usr/bin/env python3
"""Outside check of the emulator's fidelity with Zoho's official Python SDK (PyPI `zohocrmsdk8-0`).

Runs the SDK's related-records update against a running zcrm-emulator, unchanged, for the cases of Zoho's
"Update Related Records Using External ID" page, and checks the SDK's parsed answer (its SuccessResponse /
APIException objects), what the SDK sent (the emulator's journal) and the emulator's state.

    python python_sdk_check.py --base-url http://127.0.0.1:PORT --accounts-url http://127.0.0.1:PORT/accounts \
        --workdir DIR [--bench N --warmup W] [--log] [--probe-api-domain URL [--probe-config stock|checks]]

Exit status: 0 if every check passed, 1 otherwise. With --bench, N more sequential updates are timed after
the checks and one JSON line `{"sdk": "python", ...}` is printed; --probe-api-domain replaces the checks with the
api_domain experiment (see benches/sdk_compare.sh).

SDK configuration needed to keep the SDK on the emulator (read from the SDK's source):
* a custom `DataCenter.Environment(url, accounts_url, file_upload_url)`: `url` is the CRM base URL (the SDK
  appends `/crm/v8/...`), `accounts_url` is the full token-endpoint URL (`{accounts}/oauth/v2/token`);
* `SDKConfig(update_api_domain=False)`: otherwise the SDK stores the token reply's `api_domain` with the token,
  and on the next call `DataCenter.get(api_domain)` swaps the environment for Zoho's own when that domain is a
  `*.zohoapis.*` URL (it keeps the configured environment for any other value);
* a `FileStore` and `resource_path` in the work directory (the SDK writes its token CSV and metadata cache there).

Case A (an external value in the path) goes through `update_related_records_using_external_id`:
`update_related_records` types `record_id` as int, so it serves case B (a record id in the path).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from urllib.parse import urlparse

# Nothing here may leave the machine: requests must not pick up a proxy from the environment.
for _k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_k, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken  # noqa: E402
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore  # noqa: E402
from zohocrmsdk.src.com.zoho.api.logger import Logger  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api import HeaderMap  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import Record  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.related_records import (  # noqa: E402
    ActionWrapper,
    APIException,
    BodyWrapper,
    RelatedRecordsOperations,
    SuccessResponse,
    UpdateRelatedRecordsHeader,
    UpdateRelatedRecordsUsingExternalIDHeader,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig  # noqa: E402

CLIENT_ID = "1000.EMULATORCLIENTID"
CLIENT_SECRET = "emulator-client-secret"
REFRESH_TOKEN = "1000.emulator.refresh.token"
CONTACT_ID = "111111000000085009"  # extcontact3
DEAL3_ID = "111111000000094028"  # extdeal3
DEAL2_ID = "111111000000094040"  # extdeal2
ROLE = "111111000000026002"
BOTH = "Contacts.External_Contact_ID,Deals.External_Deal_ID"
BASE_ERROR = "You have specified an invalid external ID for the base module"
METADATA = ("/crm/v8/users", "/crm/v8/org", "/crm/v8/settings/")

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("  ok   " if ok else "  FAIL ") + what)
    if not ok:
        failures.append(what)


def control(base: str, method: str, path: str) -> object:
    req = urllib.request.Request(base + "/__emulator/" + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback only)
        return json.loads(r.read() or b"null")


def relation(state: dict, contact_id: str, deal_id: str) -> dict | None:
    for r in state["relations"]:
        ends = {(r["a"]["module"], r["a"]["id"]), (r["b"]["module"], r["b"]["id"])}
        if ends == {("Contacts", contact_id), ("Deals", deal_id)}:
            return r["fields"]
    return None


def body(external_deal: str) -> BodyWrapper:
    record = Record()
    record.add_key_value("External_Deal_ID", external_deal)
    record.add_key_value("Contact_Role", ROLE)
    wrapper = BodyWrapper()
    wrapper.set_data([record])
    return wrapper


def case_a(ops: RelatedRecordsOperations, value: str = "extcontact3"):
    headers = HeaderMap()
    headers.add(UpdateRelatedRecordsUsingExternalIDHeader.x_external, BOTH)
    return ops.update_related_records_using_external_id(value, body("extdeal3"), headers)


def case_b(ops: RelatedRecordsOperations):
    headers = HeaderMap()
    headers.add(UpdateRelatedRecordsHeader.x_external, "Deals.External_Deal_ID")
    return ops.update_related_records(int(CONTACT_ID), body("extdeal2"), headers)


def success_of(response, external_deal: str, deal_id: str, label: str) -> None:
    check(response is not None, f"{label}: the SDK returned a response")
    if response is None:
        return
    check(response.get_status_code() == 200, f"{label}: HTTP 200 (got {response.get_status_code()})")
    obj = response.get_object()
    check(isinstance(obj, ActionWrapper), f"{label}: parsed as ActionWrapper (got {type(obj).__name__})")
    if not isinstance(obj, ActionWrapper):
        return
    data = obj.get_data()
    check(len(data) == 1, f"{label}: one item in data")
    item = data[0]
    check(isinstance(item, SuccessResponse), f"{label}: item is a SuccessResponse (got {type(item).__name__})")
    if not isinstance(item, SuccessResponse):
        return
    check(item.get_code().get_value() == "SUCCESS", f"{label}: code SUCCESS")
    check(item.get_status().get_value() == "success", f"{label}: status success")
    check(item.get_message().get_value() == "relation added", f"{label}: message 'relation added'")
    # The SDK's model types details.id as Long: the string id of the answer comes back as an int.
    details = item.get_details()
    check(
        details.get("External_Deal_ID") == external_deal and str(details.get("id")) == deal_id,
        f"{label}: details {{External_Deal_ID: {external_deal}, id: {deal_id}}} (got {details})",
    )


def put_sent(journal: list, path: str, x_external: str, label: str) -> None:
    puts = [e for e in journal if e["method"] == "PUT" and e["path"] == path]
    check(len(puts) == 1, f"{label}: exactly one PUT {path} sent")
    if not puts:
        return
    h = dict(puts[0]["headers"])
    check(h.get("x-external") == x_external, f"{label}: X-EXTERNAL {x_external!r} (sent {h.get('x-external')!r})")
    # The SDK sets Content-Type only for a few bulk/zia URLs: the emulator must not require it on this PUT.
    check("content-type" not in h, f"{label}: sent without a Content-Type, and accepted")
    sent = json.loads(puts[0]["body"])
    check(sent["data"][0].get("Contact_Role") == ROLE, f"{label}: body carries Contact_Role (sent {sent})")


def init_sdk(base: str, accounts: str, workdir: str, log: bool) -> None:
    os.makedirs(workdir, exist_ok=True)
    token_file = os.path.join(workdir, "sdk_tokens.txt")
    if os.path.exists(token_file):
        os.remove(token_file)
    environment = DataCenter.Environment(base, accounts + "/oauth/v2/token", base)
    token = OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)
    Initializer.initialize(
        environment=environment,
        token=token,
        store=FileStore(token_file),
        sdk_config=SDKConfig(update_api_domain=False),
        resource_path=workdir,
        # The SDK's default is no log; --log writes its INFO log (each request it fires) to the work directory.
        logger=Logger.get_instance(Logger.Levels.INFO, os.path.join(workdir, "sdk.log")) if log else None,
    )


def run_checks(base: str, accounts: str, workdir: str, log: bool) -> None:
    control(base, "POST", "reset")
    init_sdk(base, accounts, workdir, log)
    ops = RelatedRecordsOperations("Deals", "Contacts")

    print("case A: PUT Contacts/extcontact3/Deals, X-EXTERNAL names both modules")
    success_of(case_a(ops), "extdeal3", DEAL3_ID, "case A")
    print("case B: PUT Contacts/<record id>/Deals, X-EXTERNAL names the related module")
    success_of(case_b(ops), "extdeal2", DEAL2_ID, "case B")

    print("error: an unknown base external value")
    r = case_a(ops, "no-such-contact")
    check(r is not None and r.get_status_code() == 400, "error: HTTP 400")
    err = r.get_object() if r is not None else None
    check(isinstance(err, APIException), f"error: parsed as APIException (got {type(err).__name__})")
    if isinstance(err, APIException):
        check(err.get_code().get_value() == "INVALID_DATA", "error: code INVALID_DATA")
        check(err.get_message().get_value() == BASE_ERROR, "error: message")
        # The SDK's APIException keeps only the details keys of its model (permissions, id, param_name,
        # json_path, resource_path_index): api_name is dropped there, so read it from the raw JSON too.
        check(err.get_details() == {"resource_path_index": 1}, f"error: parsed details ({err.get_details()})")
        raw = r.get_response_json() or {}
        check(raw.get("details", {}).get("api_name") == "External_Contact_ID", f"error: raw details.api_name ({raw})")

    journal = control(base, "GET", "journal")
    put_sent(journal, "/crm/v8/Contacts/extcontact3/Deals", BOTH, "case A")
    put_sent(journal, f"/crm/v8/Contacts/{CONTACT_ID}/Deals", "Deals.External_Deal_ID", "case B")
    hosts = {urlparse(base).netloc}
    check(all(e["status"] != 0 for e in journal), "every request answered")
    check(
        all(dict(e["headers"]).get("host") in hosts for e in journal),
        f"every request went to the emulator ({hosts})",
    )
    meta = [f"{e['method']} {e['path']}?{e['query']}" for e in journal if e["path"].startswith(METADATA)]
    print("  hidden metadata calls: " + (", ".join(meta) or "none"))

    state = control(base, "GET", "state")
    role = {"Contact_Role": ROLE}
    check(relation(state, CONTACT_ID, DEAL3_ID) == role, "state: extcontact3 <-> extdeal3 with the role")
    check(relation(state, CONTACT_ID, DEAL2_ID) == role, "state: extcontact3 <-> extdeal2 with the role")
    check(len(state["relations"]) == 2, f"state: exactly two relations (got {len(state['relations'])})")
    check(state["stats"]["tokens_issued"] == 1, f"state: one access token minted ({state['stats']['tokens_issued']})")


def bench(base: str, n: int, warmup: int) -> dict:
    ops = RelatedRecordsOperations("Deals", "Contacts")
    # What a fresh process sent before (and for) its first updates: the checks' journal.
    first = control(base, "GET", "journal")
    for _ in range(warmup):
        case_a(ops)
    control(base, "DELETE", "journal")
    times = []
    t_start = time.time()
    for _ in range(n):
        t0 = time.perf_counter()
        r = case_a(ops)
        times.append(time.perf_counter() - t0)
        if r is None or r.get_status_code() != 200:
            raise SystemExit("bench: an update failed")
    t_end = time.time()
    journal = control(base, "GET", "journal")
    times.sort()
    return {
        "sdk": "python",
        "t_start": t_start,
        "t_end": t_end,
        "fresh_process_metadata_calls": [e["path"] for e in first if e["path"].startswith(METADATA)],
        "n": n,
        "mean_ms": round(sum(times) / n * 1000, 3),
        "p50_ms": round(times[n // 2] * 1000, 3),
        "p95_ms": round(times[int(n * 0.95) - 1] * 1000, 3),
        "requests_in_journal": len(journal),
        "metadata_calls": sum(1 for e in journal if e["path"].startswith(METADATA)),
        "token_calls": sum(1 for e in journal if e["path"].endswith("/oauth/v2/token")),
    }


PAGE_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"


def probe_api_domain(base: str, accounts: str, workdir: str, api_domain: str, stock: bool) -> dict:
    """The SDK given a token reply whose api_domain is `api_domain`, in its stock configuration (api_domain
    updates on) or in the checks' (off): where do its calls go? The token reply is scripted with a token fault
    carrying the page's static token, which the emulator accepts."""
    from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException

    control(base, "POST", "reset")
    reply = {"access_token": PAGE_TOKEN, "api_domain": api_domain, "token_type": "Bearer", "expires_in": 3600}
    fault = {"kind": "status", "target": "token", "status": 200, "body": json.dumps(reply)}
    req = urllib.request.Request(base + "/__emulator/faults", data=json.dumps(fault).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()  # noqa: S310 (loopback only)
    os.makedirs(workdir, exist_ok=True)
    token_file = os.path.join(workdir, "sdk_tokens.txt")
    if os.path.exists(token_file):
        os.remove(token_file)
    outcome = []
    try:
        Initializer.initialize(
            environment=DataCenter.Environment(base, accounts + "/oauth/v2/token", base),
            token=OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN),
            store=FileStore(token_file),
            sdk_config=SDKConfig() if stock else SDKConfig(update_api_domain=False),
            resource_path=workdir,
        )
        ops = RelatedRecordsOperations("Deals", "Contacts")
        for _ in range(2):
            try:
                r = case_a(ops)
                outcome.append(f"HTTP {r.get_status_code()}" if r is not None else "no response")
            except SDKException as e:
                outcome.append(f"SDKException: {str(e)[:160]}")
    except SDKException as e:
        outcome.append(f"initialize: SDKException: {str(e)[:160]}")
    env = Initializer.get_initializer().environment if Initializer.get_initializer() else None
    journal = control(base, "GET", "journal")
    return {
        "sdk": "python",
        "config": "stock (update_api_domain=True)" if stock else "update_api_domain=False",
        "token_reply_api_domain": api_domain,
        "environment_url_after": env.url if env else None,
        "updates": outcome,
        "reached_emulator": [f"{e['method']} {e['path']}" for e in journal],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True)
    p.add_argument("--accounts-url", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--bench", type=int, default=0, help="time N sequential updates after the checks")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--log", action="store_true", help="write the SDK's INFO log to WORKDIR/sdk.log")
    p.add_argument(
        "--probe-api-domain",
        metavar="URL",
        help="instead of the checks: a token reply with this api_domain; print where the SDK's calls went",
    )
    p.add_argument("--probe-config", choices=["stock", "checks"], default="stock", help="SDK config of the probe")
    a = p.parse_args()
    for url in (a.base_url, a.accounts_url):
        if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            print(f"refusing a non-loopback URL: {url}", file=sys.stderr)
            return 2
    if a.probe_api_domain:
        stock = a.probe_config == "stock"
        print(json.dumps(probe_api_domain(a.base_url, a.accounts_url, a.workdir, a.probe_api_domain, stock)))
        return 0
    run_checks(a.base_url, a.accounts_url, a.workdir, a.log)
    if failures:
        print(f"python SDK check: {len(failures)} failed", file=sys.stderr)
        return 1
    print("python SDK check: all passed")
    if a.bench:
        print(json.dumps(bench(a.base_url, a.bench, a.warmup)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
