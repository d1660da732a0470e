"""Exceptions raised by :mod:`zcrm_extid`.

Every error is a :class:`ZcrmError` with ``code`` (Zoho's code, e.g. ``INVALID_DATA``, or the client's own:
``INVALID_INPUT``, ``INVALID_CONFIG``, ``TRANSPORT``, ``TIMEOUT``, ``UNEXPECTED_RESPONSE``, ``OAUTH_*``),
``category`` (what kind of failure: ``invalid_input``, ``config``, ``auth``, ``permission``, ``not_found``,
``conflict``, ``rate_limited``, ``server``, ``network``, ``cancelled``, ``client``), ``retryable`` (whether the
same call may succeed later), ``message``, ``status`` (the HTTP status, when a response arrived) and ``details``
(Zoho's ``details`` object). ``str(error)`` is the full description; no error ever contains a token or a client
secret. A transport failure or a timeout has the I/O error underneath as ``__cause__`` (an ``OSError`` such as
``ConnectionRefusedError``).

The class is chosen in the native module from the core's table of codes, with no default: every known code has
its class, and Zoho's codes without a class of their own get the class of their category (an unknown code: of
its HTTP status)::

    ZcrmError
    +-- InvalidInputError (also ValueError)      nothing was sent; .argument, .index, .field, .location
    +-- InvalidConfigError (also ValueError)     the client settings are unusable; .setting (code INVALID_CONFIG,
    |                                            or API_DOMAIN_MISMATCH: an explicit data centre or environment
    |                                            disagrees with the token's api_domain; .details has both values)
    +-- ApiError                                 Zoho answered with an error object; .hint
    |   +-- BadRequestError                      category invalid_input / config (PATTERN_NOT_MATCHED,
    |   |   |                                    REQUIRED_PARAM_MISSING, INVALID_REQUEST_METHOD, INVALID_HOST, ...)
    |   |   +-- InvalidDataError                 INVALID_DATA
    |   |   +-- MandatoryNotFoundError           MANDATORY_NOT_FOUND
    |   |   +-- LimitExceededError               LIMIT_EXCEEDED
    |   +-- UnauthorizedError                    category auth
    |   |   +-- InvalidTokenError                INVALID_TOKEN, INVALID_OAUTHTOKEN
    |   |   +-- AuthenticationFailureError       AUTHENTICATION_FAILURE, AUTHENTICATION_FAILED
    |   +-- ForbiddenError                       category permission (FEATURE_NOT_SUPPORTED, LICENSE_LIMIT_EXCEEDED)
    |   |   +-- ScopeMismatchError               OAUTH_SCOPE_MISMATCH (.hint names the scopes needed)
    |   |   +-- NoPermissionError                NO_PERMISSION, AUTHORIZATION_FAILED
    |   +-- NotFoundError                        category not_found (API_NOT_SUPPORTED, NO_CONTENT)
    |   |   +-- InvalidModuleError               INVALID_MODULE, NOT_SUPPORTED
    |   |   +-- InvalidUrlPatternError           INVALID_URL_PATTERN
    |   +-- ConflictError                        category conflict (DUPLICATE_DATA, ALREADY_MODIFIED,
    |   |                                        CANNOT_BE_UPDATED, NOT_ALLOWED)
    |   +-- RateLimitedError                     TOO_MANY_REQUESTS, or HTTP 429
    |   +-- InternalError                        INTERNAL_ERROR, or HTTP 5xx (category server)
    +-- AuthError                                the token endpoint refused; .error, .description, .hint
    +-- TransportError                           the connection failed or dropped
    +-- TimeoutError (also builtins.TimeoutError)
    +-- UnexpectedResponseError                  not a usable Zoho answer; .content_type, .body_prefix, .reason
    +-- CancelledError                           the call was cancelled (CANCELLED)
    +-- ClientPanicError                         a bug in the client ended the call (CLIENT_PANIC); please report it

A bulk job (``Client.link_many``) stopped by its circuit breaker (a wrong client secret, a revoked refresh
token, a missing scope, an unknown module, spent credits: errors that would fail every call) raises the error
that stopped it, with the partial report as ``bulk_report``: rows sent before the stop have their outcomes,
the rest are ``NOT_ATTEMPTED`` naming the cause. So does an exception raised by the rows' iterator or a
callback (``bulk_report`` is then set on that exception).

Per-record failures of a call (HTTP 207, or 400 with a ``data`` array) are not exceptions: they are
``Outcome`` objects of the ``UpdateResult``.

All classes pickle with their attributes (for multiprocessing and logging handlers).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Dict, Mapping, Optional

from .types import ErrorCategory

if TYPE_CHECKING:
    from ._native import BulkReport

__all__ = [
    "ZcrmError",
    "InvalidInputError",
    "InvalidConfigError",
    "ApiError",
    "BadRequestError",
    "InvalidDataError",
    "MandatoryNotFoundError",
    "LimitExceededError",
    "UnauthorizedError",
    "InvalidTokenError",
    "AuthenticationFailureError",
    "ForbiddenError",
    "ScopeMismatchError",
    "NoPermissionError",
    "NotFoundError",
    "InvalidModuleError",
    "InvalidUrlPatternError",
    "ConflictError",
    "RateLimitedError",
    "InternalError",
    "AuthError",
    "TransportError",
    "TimeoutError",
    "UnexpectedResponseError",
    "CancelledError",
    "ClientPanicError",
]


class ZcrmError(Exception):
    """Base class of every zcrm_extid error.

    ``args[0]`` (and ``str(error)``) is the full description; the attributes hold its parts.
    """

    code: str
    """Zoho's code (``MANDATORY_NOT_FOUND``, ...) or the client's own (``INVALID_INPUT``, ``TRANSPORT``, ...)."""
    category: ErrorCategory
    """What kind of failure: ``invalid_input``, ``auth``, ``permission``, ``not_found``, ``conflict``, ..."""
    retryable: bool
    """Whether sending the same call again, after a wait, may succeed (rate limits, 5xx, network failures)."""
    message: str
    """The message without the code: Zoho's message, or what went wrong."""
    status: Optional[int]
    """The HTTP status, when a response was received."""
    details: Dict[str, object]
    """Zoho's ``details`` (``api_name``, ``json_path``, ``resource_path_index``, ...); ``{}`` when none."""
    bulk_report: Optional["BulkReport"] = None
    """For an error that stopped a bulk job: the partial report (outcomes so far, totals)."""

    def __init__(
        self,
        text: str = "",
        *,
        code: str = "",
        category: ErrorCategory = "client",
        retryable: bool = False,
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        # Only `text` goes into `args`: pickling re-creates the instance from `args` and restores the
        # attributes from `__dict__`, so keyword-only attributes survive a round trip.
        super().__init__(text)
        self.code = code
        self.category = category
        self.retryable = retryable
        self.message = text if message is None else message
        self.status = status
        self.details = dict(details) if details is not None else {}

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class InvalidInputError(ZcrmError, ValueError):
    """An argument or record failed validation; nothing was sent.

    ``location`` is ``argument``, then ``[index]`` for a record, then ``.field``: ``data[3].External_Deal_ID``.
    """

    argument: str
    index: Optional[int]
    field: Optional[str]
    location: str

    def __init__(
        self,
        text: str = "",
        *,
        argument: str = "",
        index: Optional[int] = None,
        field: Optional[str] = None,
        location: Optional[str] = None,
        code: str = "INVALID_INPUT",
        category: ErrorCategory = "invalid_input",
        retryable: bool = False,
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(
            text, code=code, category=category, retryable=retryable, message=message, status=status, details=details
        )
        self.argument = argument
        self.index = index
        self.field = field
        self.location = argument if location is None else location


class InvalidConfigError(ZcrmError, ValueError):
    """A client setting is unusable (``setting`` names it); nothing was sent."""

    setting: str

    def __init__(
        self,
        text: str = "",
        *,
        setting: str = "",
        code: str = "INVALID_CONFIG",
        category: ErrorCategory = "config",
        retryable: bool = False,
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(
            text, code=code, category=category, retryable=retryable, message=message, status=status, details=details
        )
        self.setting = setting


class ApiError(ZcrmError):
    """Zoho answered the call with an error object (no per-record results).

    ``hint`` is what the client knows that Zoho did not say (e.g. the OAuth scopes a call needs).
    """

    hint: Optional[str]

    def __init__(
        self,
        text: str = "",
        *,
        hint: Optional[str] = None,
        code: str = "",
        category: ErrorCategory = "server",
        retryable: bool = False,
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(
            text, code=code, category=category, retryable=retryable, message=message, status=status, details=details
        )
        self.hint = hint


class BadRequestError(ApiError):
    """Category ``invalid_input`` (or ``config``): the request or its data is wrong; fix it."""


class UnauthorizedError(ApiError):
    """Category ``auth``: Zoho did not accept the access token."""


class ForbiddenError(ApiError):
    """Category ``permission``: the token or the user may not do this (scope, profile, edition, feature)."""


class NotFoundError(ApiError):
    """Category ``not_found``: the module, route, API or version does not exist (or there was no content)."""


class ConflictError(ApiError):
    """Category ``conflict``: ``DUPLICATE_DATA``, ``ALREADY_MODIFIED``, ``CANNOT_BE_UPDATED``, ``NOT_ALLOWED``."""


class InvalidDataError(BadRequestError):
    """``INVALID_DATA``: an unknown external value or record id, an invalid relation name, ..."""


class MandatoryNotFoundError(BadRequestError):
    """``MANDATORY_NOT_FOUND``: a required field is missing."""


class InvalidTokenError(UnauthorizedError):
    """``INVALID_TOKEN`` / ``INVALID_OAUTHTOKEN``: the access token is invalid or expired."""


class AuthenticationFailureError(UnauthorizedError):
    """``AUTHENTICATION_FAILURE`` / ``AUTHENTICATION_FAILED``: no usable Authorization header."""


class ScopeMismatchError(ForbiddenError):
    """``OAUTH_SCOPE_MISMATCH``: the token lacks the scope; ``hint`` names the scopes that would do."""


class NoPermissionError(ForbiddenError):
    """``NO_PERMISSION`` / ``AUTHORIZATION_FAILED``: the user's profile lacks the permission."""


class InvalidModuleError(NotFoundError):
    """``INVALID_MODULE`` / ``NOT_SUPPORTED``: the module is unknown, hidden or not supported by the API."""


class InvalidUrlPatternError(NotFoundError):
    """``INVALID_URL_PATTERN``: the URL matches no route."""


class LimitExceededError(BadRequestError):
    """``LIMIT_EXCEEDED``: more items than one call allows."""


class RateLimitedError(ApiError):
    """``TOO_MANY_REQUESTS`` or HTTP 429: credits or concurrency exhausted (after the client's retries)."""


class InternalError(ApiError):
    """``INTERNAL_ERROR`` or HTTP 5xx (after the client's retries)."""


class AuthError(ZcrmError):
    """The OAuth token endpoint refused to issue an access token.

    ``code`` is ``OAUTH_INVALID_CODE`` (refresh token revoked or from another data centre),
    ``OAUTH_INVALID_CLIENT``, ``OAUTH_THROTTLED`` or ``OAUTH_ERROR``; ``error`` and ``description`` are the
    endpoint's own words, ``hint`` the likely cause and remedy.
    """

    error: str
    description: Optional[str]
    hint: Optional[str]

    def __init__(
        self,
        text: str = "",
        *,
        error: str = "",
        description: Optional[str] = None,
        hint: Optional[str] = None,
        code: str = "",
        category: ErrorCategory = "auth",
        retryable: bool = False,
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(
            text, code=code, category=category, retryable=retryable, message=message, status=status, details=details
        )
        self.error = error
        self.description = description
        self.hint = hint


class TransportError(ZcrmError):
    """The connection failed or dropped before a complete response arrived (after the client's retries)."""


class TimeoutError(ZcrmError, builtins.TimeoutError):
    """Connecting or waiting for the response exceeded the configured timeout (after the client's retries)."""


class UnexpectedResponseError(ZcrmError):
    """The server's answer is not a Zoho response the client can interpret (e.g. an HTML 502 from a proxy).

    ``status``, ``content_type`` and the first 512 bytes of the body (``body_prefix``) are kept; ``reason``
    says why the answer could not be used.
    """

    content_type: Optional[str]
    body_prefix: str
    reason: str

    def __init__(
        self,
        text: str = "",
        *,
        content_type: Optional[str] = None,
        body_prefix: str = "",
        reason: str = "",
        code: str = "UNEXPECTED_RESPONSE",
        category: ErrorCategory = "server",
        retryable: bool = False,
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(
            text, code=code, category=category, retryable=retryable, message=message, status=status, details=details
        )
        self.content_type = content_type
        self.body_prefix = body_prefix
        self.reason = reason


class CancelledError(ZcrmError):
    """``CANCELLED``: the call was cancelled before it finished (e.g. a ``Cancel`` token)."""


class ClientPanicError(ZcrmError):
    """``CLIENT_PANIC``: a bug in the client (a caught panic) ended the call. Please report it."""
