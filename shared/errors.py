"""Domain errors. Domain code raises these and knows nothing of HTTP beyond the one number
each class carries: its contract status. Routes declare the classes they may raise, the
OpenAPI documents derive their error responses from those classes, and `STATUS_BY_CODE`
(checked when this module is imported) guarantees one code means one status everywhere:
an app may switch on the code alone."""

from __future__ import annotations

from typing import Any

_STATUS_BY_CODE: dict[str, int] = {"conflict": 409}


class DomainError(Exception):
    """A refusal the caller can act on, named by a stable contract `code` and answered with
    one HTTP `status`."""

    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A code declared with a second status is a programming error that stops the import
        # of the module declaring it (every function's cold start, and the tests).
        super().__init_subclass__(**kwargs)
        seen = _STATUS_BY_CODE.setdefault(cls.code, cls.status)
        if seen != cls.status:
            raise TypeError(
                f"error code {cls.code!r} has two statuses ({seen} and {cls.status}, "
                f"{cls.__qualname__}): one code must mean one status"
            )

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class InvalidRequest(DomainError):
    code = "invalid_request"
    status = 400
    default_message = "The request is not valid."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    default_message = "Sign in again: the token is missing or invalid."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "This account may not do that."


class Suspended(DomainError):
    code = "suspended"
    status = 403
    default_message = "This account is suspended. Contact Halo Bestie support."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Nothing here with that id."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."


class RegistrationRequired(DomainError):
    code = "registration_required"
    status = 403
    default_message = "Register (Google, Apple or phone) to continue."


class NotAMitra(DomainError):
    code = "not_a_mitra"
    status = 403
    default_message = "This phone number is not registered as a mitra."


class NotOnline(DomainError):
    code = "not_online"
    status = 409
    default_message = "You are offline. Go online first."


class PaymentRequired(DomainError):
    code = "payment_required"
    status = 402
    default_message = "No sessions left. Buy a package to continue."


class AlreadySearching(DomainError):
    code = "already_searching"
    status = 409
    default_message = "A search for a bestie is already running."


class AlreadyInSession(DomainError):
    code = "already_in_session"
    status = 409
    default_message = "You are already in a session."


class AlreadyTaken(DomainError):
    code = "already_taken"
    status = 409
    default_message = "Another bestie already took this request."


class AlreadyMatched(DomainError):
    code = "already_matched"
    status = 409
    default_message = "This request is already matched."


class AtCapacity(DomainError):
    code = "at_capacity"
    status = 409
    default_message = "You already have as many clients as you can take."


class NotOffered(DomainError):
    code = "not_offered"
    status = 403
    default_message = "This request was not offered to you."


class Expired(DomainError):
    code = "expired"
    status = 410
    default_message = "This request has expired."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = "Email or password is wrong."


class Locked(DomainError):
    code = "locked"
    status = 423
    default_message = "Too many failed attempts. Try again later."


class EmailTaken(DomainError):
    code = "email_taken"
    status = 409
    default_message = "An operator with this email already exists."


class PhoneTaken(DomainError):
    code = "phone_taken"
    status = 409
    default_message = "A mitra with this phone number already exists."


class PaymentProviderError(DomainError):
    code = "payment_provider_error"
    status = 502
    default_message = "The payment provider is not answering. Try again shortly."


class Unavailable(DomainError):
    code = "unavailable"
    status = 503
    default_message = "The service is briefly unavailable. Try again shortly."


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = "Too many requests. Slow down."


class ProfileMissing(DomainError):
    """The Firebase user has no client profile yet (the app shows its register screen).

    Its own code, not `registration_required`: the contract gives that code 403 on pairing
    and payments (anonymous account, trial used: link Google/Apple/phone) and 404 on
    `GET /api/client/auth/me` (no profile: call register) — two statuses and two different
    things for the app to do. See README "Decisions"."""

    code = "profile_required"
    status = 404
    default_message = "Create your profile first."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_message = "Request bodies are limited to 64 KiB."


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    default_message = "Send the body as application/json."


class LastSuperadmin(DomainError):
    code = "last_superadmin"
    status = 409
    default_message = "Keep at least one active superadmin: promote another operator first."


class SessionEnded(DomainError):
    """An operator tried to reroute a session that is no longer active."""

    code = "session_ended"
    status = 409
    default_message = "This session has already ended."


class MethodNotAllowed(DomainError):
    """Raised by the router only (documented on every route)."""

    code = "method_not_allowed"
    status = 405
    default_message = "This method is not allowed here."


# Every code and its one status, filled as error classes are declared (here and elsewhere).
STATUS_BY_CODE = _STATUS_BY_CODE
