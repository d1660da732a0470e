"""Smoke test of an installed zcrm-extid (run by .ci/package-check in a fresh venv, without Rust on PATH).

Imports the package from where pip put it, starts the in-process emulator and links one pair by external IDs.
Usage: python smoke.py <site-packages prefix the package must come from>
"""

import sys

import zcrm_extid
from zcrm_extid import External
from zcrm_extid.testing import Emulator

prefix = sys.argv[1]
assert zcrm_extid.__file__.startswith(prefix), f"imported {zcrm_extid.__file__}, not from {prefix}"

with Emulator() as emu:
    client = emu.client()
    result = client.update_related(
        "Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
        [{"External_Deal_ID": "extdeal2"}], related_field="External_Deal_ID",
    )
    outcome = result[0]
    assert outcome.ok and outcome.code == "SUCCESS", outcome
    linked = [row[0] for row in emu.related("Contacts", "111111000000085009", "Deals")]
    assert linked == ["111111000000094040"], linked

print(f"python smoke: zcrm-extid {zcrm_extid.__version__} from {zcrm_extid.__file__}: linked extcontact3 -> extdeal2")
