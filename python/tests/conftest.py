"""Shared constants of the emulator's default seed (the example of Zoho's API page).

The `zcrm_emulator` fixture is not defined here: it comes from the installed package's pytest plugin
(entry point `pytest11` -> `zcrm_extid.testing`), so these tests also prove that users get it.
"""

from __future__ import annotations

from typing import List

from zcrm_extid.testing import Emulator

CONTACT = "111111000000085009"  # External_Contact_ID = extcontact3
DEAL3 = "111111000000094028"  # External_Deal_ID = extdeal3
DEAL2 = "111111000000094040"  # External_Deal_ID = extdeal2
ROLE = "111111000000026002"
PAGE_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"  # the page's access token, seeded
SECRET = "emulator-client-secret"
REFRESH = "1000.emulator.refresh.token"


def api_puts(emu: Emulator) -> List[dict]:
    return [e for e in emu.journal() if e["method"] == "PUT"]
