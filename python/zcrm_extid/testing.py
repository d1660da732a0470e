"""A local Zoho CRM for tests: the Rust emulator, started in-process (no subprocess, no network beyond 127.0.0.1).

::

    from zcrm_extid import External
    from zcrm_extid.testing import Emulator

    with Emulator(latency_ms=50) as emu:
        client = emu.client()                      # refresh-token grant against the emulator's OAuth endpoint
        client.update_related("Contacts", External("External_Contact_ID", "extcontact3"), "Deals",
                               [{"External_Deal_ID": "extdeal3"}], related_field="External_Deal_ID")
        assert emu.related("Contacts", "111111000000085009", "Deals")[0][0] == "111111000000094028"
        emu.push_fault(kind="status", status=500)  # the next API call fails (the client retries)

The emulator starts seeded with the example of Zoho's "Update Related Records Using External ID" page:
contact ``extcontact3`` (id ``111111000000085009``), deals ``extdeal3`` (``111111000000094028``) and
``extdeal2`` (``111111000000094040``), the page's access token, and an OAuth client whose credentials
``Emulator.client()`` uses.

**pytest fixture.** Installing the package registers a pytest plugin (entry point ``pytest11``) with the
function-scoped fixture ``zcrm_emulator``: a fresh, running :class:`Emulator` per test, stopped afterwards::

    def test_link(zcrm_emulator):
        client = zcrm_emulator.client()
        ...
"""

from __future__ import annotations

from typing import Iterator

from ._native import Emulator

__all__ = ["Emulator"]

try:
    import pytest
except ImportError:  # pytest is only needed for the fixture
    pass
else:
    __all__ += ["zcrm_emulator"]

    @pytest.fixture
    def zcrm_emulator() -> Iterator[Emulator]:
        """A running emulator (default seed), stopped when the test ends."""
        with Emulator() as emu:
            yield emu
