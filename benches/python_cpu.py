"""Client CPU per row of the Python package's link_many, dicts included, against the emulator as its own process.

Usage (from the repo root, with the package installed in .venv and the emulator built in release):
    .venv/bin/python benches/python_cpu.py [ROWS] [path/to/zcrm-emulator]
Prints one markdown table row, like zcrm-bench. Exits non-zero only if rows failed.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from emulator_process import emulator
from zcrm_extid import Client


def main() -> int:
    rows_n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    binary = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("target/release/zcrm-emulator")
    contacts = (rows_n + 99) // 100
    with emulator(binary, "--generate", f"Contacts.External_Contact_ID=c:{contacts}",
                  "--generate", f"Deals.External_Deal_ID=d:{rows_n}") as info:
        client = Client(client_id="1000.EMULATORCLIENTID", client_secret="emulator-client-secret",
                        refresh_token="1000.emulator.refresh.token",
                        base_url=info["base_url"], accounts_url=info["accounts_url"])
        # The rows a data script has in hand (built before the measurement); converting them is measured.
        rows = [{"External_Contact_ID": f"c{i // 100}", "External_Deal_ID": f"d{i}"} for i in range(rows_n)]
        client.link_many(rows[:100], parent="Contacts.External_Contact_ID", related="Deals.External_Deal_ID")
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        report = client.link_many(rows, parent="Contacts.External_Contact_ID", related="Deals.External_Deal_ID")
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        per_row = cpu / rows_n * 1e6
        ok = report.summary.succeeded == rows_n
        verdict = "met" if per_row <= 5.0 and ok else "NOT met"
        print(f"| client CPU per row, {rows_n} rows, zero latency (Python, dicts included) | {per_row:.2f} us/row "
              f"(user+sys {cpu:.2f} s over {wall:.2f} s wall, {report.summary.calls} calls) | <= 5 us/row | {verdict} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
