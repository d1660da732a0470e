"""Exceptions raised by :mod:`zcrm_extid`.

Every error is a :class:`ZcrmError` with ``code`` (Zoho's code, e.g. ``INVALID_DATA``, or the client's own:
``INVALID_INPUT``, ``INVALID_CONFIG``, ``TRANSPORT``, ``TIMEOUT``, ``UNEXPECTED_RESPONSE``, ``OAUTH_*``),
``message``, ``status`` (the HTTP status, when a response arrived) and ``details`` (Zoho's ``details`` object).
``str(error)`` is the full description; no error ever contains a token or a client secret.

::

    ZcrmError
    +-- InvalidInputError (also ValueError)      nothing was sent; .argument, .index, .field, .location
    +-- InvalidConfigError (also ValueError)     the client settings are unusable; .setting (code INVALID_CONFIG,
    |                                            or API_DOMAIN_MISMATCH: an explicit data centre or environment
    |                                            disagrees with the token's api_domain; .details has both values)
    +-- ApiError                                 Zoho answered with an error object; .hint
    |   +-- InvalidDataError                     INVALID_DATA
    |   +-- MandatoryNotFoundError               MANDATORY_NOT_FOUND
    |   +-- InvalidTokenError                    INVALID_TOKEN, INVALID_OAUTHTOKEN
    |   +-- AuthenticationFailureError           AUTHENTICATION_FAILURE, AUTHENTICATION_FAILED
    |   +-- ScopeMismatchError                   OAUTH_SCOPE_MISMATCH (.hint names the scopes needed)
    |   +-- NoPermissionError                    NO_PERMISSION, AUTHORIZATION_FAILED
    |   +-- InvalidModuleError                   INVALID_MODULE, NOT_SUPPORTED
    |   +-- InvalidUrlPatternError               INVALID_URL_PATTERN
    |   +-- LimitExceededError                   LIMIT_EXCEEDED
    |   +-- RateLimitedError                     TOO_MANY_REQUESTS, or HTTP 429
    |   +-- InternalError                        INTERNAL_ERROR, or HTTP 5xx
    +-- AuthError                                the token endpoint refused; .error, .description, .hint
    +-- TransportError                           the connection failed or dropped
    +-- TimeoutError (also builtins.TimeoutError)
    +-- UnexpectedResponseError                  not a usable Zoho answer; .content_type, .body_prefix, .reason
    +-- CancelledError                           the call was cancelled (CANCELLED)
    +-- ClientPanicError                         a bug in the client ended the call (CLIENT_PANIC); please report it

A bulk job (``Client.link_many``) stopped by its circuit breaker (a wrong client secret, a revoked refresh
token, a missing scope, an unknown module, spent credits: errors that would fail every call) raises the error
that stopped it, with the partial report as ``bulk_report``: rows sent before the stop have their outcomes,
the rest are ``NOT_ATTEMPTED`` naming the cause.

Per-record failures of a call (HTTP 207, or 400 with a ``data`` array) are not exceptions: they are
``Outcome`` objects of the ``UpdateResult``.

All classes pickle with their attributes (for multiprocessing and logging handlers).
"""

from __future__ import annotations

import builtins
from typing import Dict, Mapping, Optional, Type

__all__ = [
    "ZcrmError",
    "InvalidInputError",
    "InvalidConfigError",
    "ApiError",
    "InvalidDataError",
    "MandatoryNotFoundError",
    "InvalidTokenError",
    "AuthenticationFailureError",
    "ScopeMismatchError",
    "NoPermissionError",
    "InvalidModuleError",
    "InvalidUrlPatternError",
    "LimitExceededError",
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
    message: str
    status: Optional[int]
    details: Dict[str, object]

    def __init__(
        self,
        text: str = "",
        *,
        code: str = "",
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        # Only `text` goes into `args`: pickling re-creates the instance from `args` and restores the
        # attributes from `__dict__`, so keyword-only attributes survive a round trip.
        super().__init__(text)
        self.code = code
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
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(text, code=code, message=message, status=status, details=details)
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
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(text, code=code, message=message, status=status, details=details)
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
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(text, code=code, message=message, status=status, details=details)
        self.hint = hint

    @staticmethod
    def class_for(code: str, status: Optional[int]) -> Type[ApiError]:
        """The ApiError subclass for Zoho's ``code`` (or, for codes without one, the HTTP ``status``)."""
        cls = _API_ERRORS.get(code)
        if cls is not None:
            return cls
        if status == 429:
            return RateLimitedError
        if status is not None and 500 <= status <= 599:
            return InternalError
        return ApiError


class InvalidDataError(ApiError):
    """``INVALID_DATA``: an unknown external value or record id, an invalid relation name, ..."""


class MandatoryNotFoundError(ApiError):
    """``MANDATORY_NOT_FOUND``: a required field is missing."""


class InvalidTokenError(ApiError):
    """``INVALID_TOKEN`` / ``INVALID_OAUTHTOKEN``: the access token is invalid or expired."""


class AuthenticationFailureError(ApiError):
    """``AUTHENTICATION_FAILURE`` / ``AUTHENTICATION_FAILED``: no usable Authorization header."""


class ScopeMismatchError(ApiError):
    """``OAUTH_SCOPE_MISMATCH``: the token lacks the scope; ``hint`` names the scopes that would do."""


class NoPermissionError(ApiError):
    """``NO_PERMISSION`` / ``AUTHORIZATION_FAILED``: the user's profile lacks the permission."""


class InvalidModuleError(ApiError):
    """``INVALID_MODULE`` / ``NOT_SUPPORTED``: the module is unknown, hidden or not supported by the API."""


class InvalidUrlPatternError(ApiError):
    """``INVALID_URL_PATTERN``: the URL matches no route."""


class LimitExceededError(ApiError):
    """``LIMIT_EXCEEDED``: more items than one call allows."""


class RateLimitedError(ApiError):
    """``TOO_MANY_REQUESTS`` or HTTP 429: credits or concurrency exhausted (after the client's retries)."""


class InternalError(ApiError):
    """``INTERNAL_ERROR`` or HTTP 5xx (after the client's retries)."""


_API_ERRORS: Dict[str, Type[ApiError]] = {
    "INVALID_DATA": InvalidDataError,
    "MANDATORY_NOT_FOUND": MandatoryNotFoundError,
    "INVALID_TOKEN": InvalidTokenError,
    "INVALID_OAUTHTOKEN": InvalidTokenError,
    "AUTHENTICATION_FAILURE": AuthenticationFailureError,
    "AUTHENTICATION_FAILED": AuthenticationFailureError,
    "OAUTH_SCOPE_MISMATCH": ScopeMismatchError,
    "NO_PERMISSION": NoPermissionError,
    "AUTHORIZATION_FAILED": NoPermissionError,
    "INVALID_MODULE": InvalidModuleError,
    "NOT_SUPPORTED": InvalidModuleError,
    "INVALID_URL_PATTERN": InvalidUrlPatternError,
    "LIMIT_EXCEEDED": LimitExceededError,
    "TOO_MANY_REQUESTS": RateLimitedError,
    "INTERNAL_ERROR": InternalError,
}


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
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(text, code=code, message=message, status=status, details=details)
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
        message: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Mapping[str, object]] = None,
    ) -> None:
        super().__init__(text, code=code, message=message, status=status, details=details)
        self.content_type = content_type
        self.body_prefix = body_prefix
        self.reason = reason


class CancelledError(ZcrmError):
    """``CANCELLED``: the call was cancelled before it finished (e.g. a ``Cancel`` token)."""


class ClientPanicError(ZcrmError):
    """``CLIENT_PANIC``: a bug in the client (a caught panic) ended the call. Please report it."""
