"""Input validation: raised before anything is sent (the emulator's journal stays empty), naming argument,
index and field."""

from __future__ import annotations

import datetime

import pytest
from conftest import CONTACT, DEAL3

from zcrm_extid import External, InvalidInputError

EXT = External("External_Contact_ID", "extcontact3")

CASES = [
    # (args, kwargs, argument, index, field)
    (("Contacts", EXT, "Deals", [{"External_Deal_ID": "d1"}, {"Contact_Role": "r"}]),
     {"related_field": "External_Deal_ID"}, "data", 1, "External_Deal_ID"),
    (("Contacts", EXT, "Deals", [{"External_Deal_ID": "d1"}, {"External_Deal_ID": "d2"}, {"External_Deal_ID": 7}]),
     {"related_field": "External_Deal_ID"}, "data", 2, "External_Deal_ID"),
    (("Contacts", CONTACT, "Deals", [{"id": 111111000000094028}]), {}, "data", 0, "id"),
    (("Contacts", CONTACT, "Deals", [{"id": DEAL3}, "not a record"]), {}, "data", 1, None),
    (("Contacts", CONTACT, "Deals", [{"id": DEAL3, "Contact Role": "x"}]), {}, "data", 0, "Contact Role"),
    (("Contacts", CONTACT, "Deals", [{"id": DEAL3, "Contact_Role": datetime.date(2024, 1, 1)}]), {},
     "data", 0, "Contact_Role"),
    (("Contacts", CONTACT, "Deals", [{"id": DEAL3, 5: "x"}]), {}, "data", 0, None),
    (("Contacts", CONTACT, "Deals", []), {}, "data", None, None),
    (("Contacts", CONTACT, "Deals", [{"id": str(10**17 + i)} for i in range(101)]), {}, "data", None, None),
    (("Contacts", CONTACT, "Deals", 5), {}, "data", None, None),
    (("Con tacts", CONTACT, "Deals", [{"id": DEAL3}]), {}, "module", None, None),
    (("Contacts", CONTACT, "Deals?x=1", [{"id": DEAL3}]), {}, "related_list", None, None),
    (("Contacts", CONTACT, "Deals", [{"id": DEAL3}]), {"related_module": "De als"}, "related_module", None, None),
    (("Contacts", CONTACT, "Deals", [{"id": DEAL3}]), {"related_field": "id"}, "related_field", None, None),
    (("Contacts", "abc", "Deals", [{"id": DEAL3}]), {}, "parent.id", None, None),
    (("Contacts", External("External Contact", "x"), "Deals", [{"id": DEAL3}]), {}, "parent.field", None, None),
    (("Contacts", External("External_Contact_ID", ""), "Deals", [{"id": DEAL3}]), {}, "parent.value", None, None),
    (("Deals", External("External_Deal_ID", "d"), "Deals", [{"External_Deal_ID": "x"}]),
     {"related_field": "External_Deal_ID"}, "x_external", None, None),
]


@pytest.mark.parametrize("args,kwargs,argument,index,field", CASES)
def test_invalid_input_is_raised_before_any_request(zcrm_emulator, args, kwargs, argument, index, field):
    client = zcrm_emulator.client()
    with pytest.raises(InvalidInputError) as e:
        client.update_related(*args, **kwargs)
    err = e.value
    assert isinstance(err, ValueError)
    assert (err.argument, err.index, err.field) == (argument, index, field)
    assert (err.code, err.status, err.details) == ("INVALID_INPUT", None, {})
    location = argument + (f"[{index}]" if index is not None else "") + (f".{field}" if field else "")
    assert err.location == location
    assert str(err).startswith(f"invalid {location}: "), str(err)
    assert err.message and err.message in str(err)
    # The same inputs fail the same way offline.
    with pytest.raises(InvalidInputError):
        client.prepare_update_related(*args, **kwargs)
    assert zcrm_emulator.journal() == [], "nothing was sent, not even a token request"


def test_the_message_names_argument_index_and_field(zcrm_emulator):
    with pytest.raises(InvalidInputError) as e:
        zcrm_emulator.client().update_related(
            "Contacts", EXT, "Deals", [{"External_Deal_ID": "a"}, {}, {"x": 1}],
            related_field="External_Deal_ID",
        )
    assert str(e.value).startswith("invalid data[1].External_Deal_ID: ")


def test_a_wrong_parent_type_is_a_type_error(zcrm_emulator):
    with pytest.raises(TypeError, match="parent must be a record id"):
        zcrm_emulator.client().update_related("Contacts", 1.5, "Deals", [{"id": DEAL3}])
    assert zcrm_emulator.journal() == []


def test_an_exception_from_the_records_iterable_propagates(zcrm_emulator):
    def broken():
        yield {"id": DEAL3}
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError, match="source failed"):
        zcrm_emulator.client().update_related("Contacts", CONTACT, "Deals", broken())
    assert zcrm_emulator.journal() == []
