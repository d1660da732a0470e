"""Every code of the core's table maps to its exception class, category and retryable, chosen natively with
no default (bindings/python/src/errors.rs): a code added to the core cannot fall to a generic class."""

from __future__ import annotations

from typing import Dict, Tuple, Type

import pytest

from zcrm_extid import error_codes, error_from_code, exceptions, settings_choices, types
from zcrm_extid.exceptions import (
    ApiError,
    AuthenticationFailureError,
    AuthError,
    BadRequestError,
    CancelledError,
    ClientPanicError,
    ConflictError,
    ForbiddenError,
    InternalError,
    InvalidConfigError,
    InvalidDataError,
    InvalidInputError,
    InvalidModuleError,
    InvalidTokenError,
    InvalidUrlPatternError,
    LimitExceededError,
    MandatoryNotFoundError,
    NoPermissionError,
    NotFoundError,
    RateLimitedError,
    ScopeMismatchError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    ZcrmError,
)

# The oracle: the class each known code is raised as (a class of its own, else its category's).
EXPECTED: Dict[str, Type[ZcrmError]] = {
    "INVALID_DATA": InvalidDataError,
    "MANDATORY_NOT_FOUND": MandatoryNotFoundError,
    "INVALID_REQUEST_METHOD": BadRequestError,
    "AUTHORIZATION_FAILED": NoPermissionError,
    "OAUTH_SCOPE_MISMATCH": ScopeMismatchError,
    "INVALID_MODULE": InvalidModuleError,
    "NOT_SUPPORTED": InvalidModuleError,
    "INVALID_URL_PATTERN": InvalidUrlPatternError,
    "NO_PERMISSION": NoPermissionError,
    "INTERNAL_ERROR": InternalError,
    "REQUIRED_PARAM_MISSING": BadRequestError,
    "UNABLE_TO_PARSE_DATA_TYPE": BadRequestError,
    "LIMIT_EXCEEDED": LimitExceededError,
    "INVALID_TOKEN": InvalidTokenError,
    "INVALID_OAUTHTOKEN": InvalidTokenError,
    "AUTHENTICATION_FAILURE": AuthenticationFailureError,
    "AUTHENTICATION_FAILED": AuthenticationFailureError,
    "FEATURE_NOT_SUPPORTED": ForbiddenError,
    "DUPLICATE_DATA": ConflictError,
    "PATTERN_NOT_MATCHED": BadRequestError,
    "LICENSE_LIMIT_EXCEEDED": ForbiddenError,
    "INVALID_HOST": BadRequestError,
    "API_NOT_SUPPORTED": NotFoundError,
    "TOO_MANY_REQUESTS": RateLimitedError,
    "NO_CONTENT": NotFoundError,
    "CANNOT_BE_UPDATED": ConflictError,
    "NOT_ALLOWED": ConflictError,
    "ALREADY_MODIFIED": ConflictError,
    "INVALID_INPUT": InvalidInputError,
    "INVALID_CONFIG": InvalidConfigError,
    "API_DOMAIN_MISMATCH": InvalidConfigError,
    "TRANSPORT": TransportError,
    "TIMEOUT": TimeoutError,
    "UNEXPECTED_RESPONSE": UnexpectedResponseError,
    "OAUTH_INVALID_CODE": AuthError,
    "OAUTH_INVALID_CLIENT": AuthError,
    "OAUTH_THROTTLED": AuthError,
    "OAUTH_ERROR": AuthError,
    "NOT_ATTEMPTED": CancelledError,
    "CANCELLED": CancelledError,
    "CLIENT_PANIC": ClientPanicError,
    # The shared budget: a job stopped at its credit reserve, Redis failing, Redis refusing the password.
    "CREDIT_RESERVE": CancelledError,
    "BUDGET_UNAVAILABLE": TransportError,
    "BUDGET_AUTH": InvalidConfigError,
    # A reconcile plan's parent changed since planning: a conflict, like Zoho's.
    "CHANGED_SINCE_PLANNING": ConflictError,
}

# Zoho's codes by category: the class a code without a class of its own falls to.
CATEGORY_CLASS: Dict[str, Type[ApiError]] = {
    "invalid_input": BadRequestError,
    "config": BadRequestError,
    "auth": exceptions.UnauthorizedError,
    "permission": ForbiddenError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "rate_limited": RateLimitedError,
    "server": InternalError,
}

TABLE = error_codes()


def test_the_table_is_the_cores_and_every_code_is_expected_here() -> None:
    codes = [code for code, _, _ in TABLE]
    assert len(codes) == len(set(codes)) and len(codes) >= 41
    assert set(codes) == set(EXPECTED), "a code was added to the core: give it its expected class here"
    assert {c for _, c, _ in TABLE} <= set(types.ErrorCategory.__args__)  # type: ignore[attr-defined]
    assert [c for c, _, r in TABLE if r] == ["INTERNAL_ERROR", "TOO_MANY_REQUESTS", "TRANSPORT", "TIMEOUT"]


@pytest.mark.parametrize("code,category,retryable", TABLE, ids=[t[0] for t in TABLE])
def test_every_code_maps_to_its_class(code: str, category: str, retryable: bool) -> None:
    error = error_from_code(code)
    assert type(error) is EXPECTED[code], code
    assert isinstance(error, ZcrmError)
    expected_code = "CANCELLED" if code == "NOT_ATTEMPTED" else code  # only a record's outcome is NOT_ATTEMPTED
    assert error.code == expected_code
    if code != "NOT_ATTEMPTED":
        # A 429 or 5xx answer is retryable whatever its code (UNEXPECTED_RESPONSE is rebuilt as a 502).
        by_status = error.status is not None and (error.status == 429 or error.status >= 500)
        assert (error.category, error.retryable) == (category, retryable or by_status)
    if isinstance(error, ApiError) and category in CATEGORY_CLASS:
        assert isinstance(error, CATEGORY_CLASS[category]), f"{code} is a {category} error"


@pytest.mark.parametrize(
    "status,cls,category,retryable",
    [
        (400, BadRequestError, "invalid_input", False),
        (401, exceptions.UnauthorizedError, "auth", False),
        (403, ForbiddenError, "permission", False),
        (404, NotFoundError, "not_found", False),
        (409, ConflictError, "conflict", False),
        (412, ConflictError, "conflict", False),
        (429, RateLimitedError, "rate_limited", True),
        (500, InternalError, "server", True),
        (503, InternalError, "server", True),
    ],
)
def test_an_unknown_code_is_classed_by_its_status(status: int, cls: Type[ApiError], category: str, retryable: bool) -> None:
    error = error_from_code("SOMETHING_ZOHO_ADDED_LATER", status)
    assert type(error) is cls
    assert (error.code, error.status, error.category, error.retryable) == (
        "SOMETHING_ZOHO_ADDED_LATER",
        status,
        category,
        retryable,
    )


def test_the_literal_types_are_the_cores_lists() -> None:
    choices: Dict[str, Tuple[str, ...]] = {setting: tuple(values) for setting, values in settings_choices()}
    assert types.DataCenter.__args__ == choices["data_center"]  # type: ignore[attr-defined]
    assert types.Environment.__args__ == choices["environment"]  # type: ignore[attr-defined]
    assert types.ApiVersion.__args__ == choices["api_version"]  # type: ignore[attr-defined]
    assert types.Edition.__args__ == choices["edition"]  # type: ignore[attr-defined]
    assert set(types.ErrorCategory.__args__) == {c for _, c, _ in TABLE}  # type: ignore[attr-defined]
