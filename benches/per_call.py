"""Per-call wall time of the Python package's update_related (one record, sequential) against the emulator
process, next to a raw keep-alive http.client sending the same PUT; to compare with benches/sdk_compare.sh.

    .venv/bin/python benches/per_call.py [N] [path/to/zcrm-emulator]
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from emulator_process import emulator
from zcrm_extid import Client, External

TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    binary = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("target/release/zcrm-emulator")
    with emulator(binary) as info:
        base = info["base_url"]
        client = Client(access_token=TOKEN, base_url=base)
        parent = External("External_Contact_ID", "extcontact3")
        records = [{"External_Deal_ID": "extdeal3"}]

        def ours() -> None:
            client.update_related("Contacts", parent, "Deals", records, related_field="External_Deal_ID")

        url = urlparse(base)
        conn = http.client.HTTPConnection(url.hostname, url.port)
        body = json.dumps({"data": records})
        headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}", "Content-Type": "application/json",
                   "X-EXTERNAL": "Contacts.External_Contact_ID,Deals.External_Deal_ID"}

        def raw() -> None:
            conn.request("PUT", "/crm/v5/Contacts/extcontact3/Deals", body=body, headers=headers)
            conn.getresponse().read()

        rounds: dict[str, list[float]] = {"raw": [], "ours": []}
        for f in (raw, ours):
            f()
        for _ in range(10):
            for name, f in (("raw", raw), ("ours", ours)):
                started = time.perf_counter()
                for _ in range(n // 10):
                    f()
                rounds[name].append((time.perf_counter() - started) * 1e3 / (n // 10))
        r, o = statistics.median(rounds["raw"]), statistics.median(rounds["ours"])
        print(f"| per call, Python package vs raw http.client keep-alive, {n} calls each | {o:.3f} ms vs {r:.3f} ms "
              f"({o - r:+.3f} ms) | (compare: official SDKs, benches/sdk_compare.sh) | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
