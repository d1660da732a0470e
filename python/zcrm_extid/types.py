"""The value types of :mod:`zcrm_extid`'s settings and errors, as ``Literal`` types (a type checker then refuses
``data_center="europe"``). Each list is the core's: ``tests`` compare them with
``zcrm_extid._native.settings_choices()`` and ``error_codes()``.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

__all__ = ["ApiVersion", "DataCenter", "Edition", "Environment", "ErrorCategory", "Extra", "Row"]

DataCenter = Literal["us", "eu", "in", "au", "jp", "cn", "ca", "sa"]
"""A Zoho data centre."""

Environment = Literal["production", "sandbox", "developer"]
"""A Zoho environment."""

ApiVersion = Literal["v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"]
"""A Zoho CRM API version."""

Edition = Literal["free", "standard", "professional", "enterprise", "ultimate"]
"""A Zoho CRM edition (for its concurrency limit)."""

ErrorCategory = Literal[
    "invalid_input",
    "config",
    "auth",
    "permission",
    "not_found",
    "conflict",
    "rate_limited",
    "server",
    "network",
    "cancelled",
    "client",
]
"""What kind of failure an error is (``ZcrmError.category``)."""

Extra = Literal["ignore", "error"]
"""What a bulk job does with columns it does not map."""

Row = Mapping[Any, Any]
"""A row or record: any mapping of column (field) name to value. The keys are typed ``Any`` so that
``df.to_dict("records")`` (``list[dict[Hashable, Any]]``) and ``csv.DictReader`` rows type-check; at run time a
key must be a ``str`` (anything else is an ``InvalidInputError`` naming the row)."""
