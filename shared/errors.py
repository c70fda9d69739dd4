"""Domain errors. Domain code raises these and knows nothing of HTTP; the one table in
`shared.web.errors` turns each `code` into the contract's status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on, named by a stable contract `code`."""

    code = "conflict"
    default_message = "The request conflicts with the current state."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class InvalidRequest(DomainError):
    code = "invalid_request"
    default_message = "The request is not valid."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    default_message = "Sign in again: the token is missing or invalid."


class Forbidden(DomainError):
    code = "forbidden"
    default_message = "This account may not do that."


class Suspended(DomainError):
    code = "suspended"
    default_message = "This account is suspended. Contact Halo Bestie support."


class NotFound(DomainError):
    code = "not_found"
    default_message = "Nothing here with that id."


class Conflict(DomainError):
    code = "conflict"
    default_message = "The request conflicts with the current state."


class RegistrationRequired(DomainError):
    code = "registration_required"
    default_message = "Register (Google, Apple or phone) to continue."


class NotAMitra(DomainError):
    code = "not_a_mitra"
    default_message = "This phone number is not registered as a mitra."


class NotOnline(DomainError):
    code = "not_online"
    default_message = "You are offline. Go online first."


class PaymentRequired(DomainError):
    code = "payment_required"
    default_message = "No sessions left. Buy a package to continue."


class AlreadySearching(DomainError):
    code = "already_searching"
    default_message = "A search for a bestie is already running."


class AlreadyInSession(DomainError):
    code = "already_in_session"
    default_message = "You are already in a session."


class AlreadyTaken(DomainError):
    code = "already_taken"
    default_message = "Another bestie already took this request."


class AlreadyMatched(DomainError):
    code = "already_matched"
    default_message = "This request is already matched."


class AtCapacity(DomainError):
    code = "at_capacity"
    default_message = "You already have as many clients as you can take."


class NotOffered(DomainError):
    code = "not_offered"
    default_message = "This request was not offered to you."


class Expired(DomainError):
    code = "expired"
    default_message = "This request has expired."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    default_message = "Email or password is wrong."


class Locked(DomainError):
    code = "locked"
    default_message = "Too many failed attempts. Try again later."


class EmailTaken(DomainError):
    code = "email_taken"
    default_message = "An operator with this email already exists."


class PhoneTaken(DomainError):
    code = "phone_taken"
    default_message = "A mitra with this phone number already exists."


class PaymentProviderError(DomainError):
    code = "payment_provider_error"
    default_message = "The payment provider is not answering. Try again shortly."


class Unavailable(DomainError):
    code = "unavailable"
    default_message = "The service is briefly unavailable. Try again shortly."


class RateLimited(DomainError):
    code = "rate_limited"
    default_message = "Too many requests. Slow down."


class ProfileMissing(DomainError):
    """The Firebase user has no client profile yet (the app shows its register screen)."""

    code = "registration_required"
    default_message = "Create your profile first."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    default_message = "Request bodies are limited to 64 KiB."


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


class LastSuperadmin(DomainError):
    code = "last_superadmin"
    default_message = "Keep at least one active superadmin: promote another operator first."


class SessionEnded(DomainError):
    """An operator tried to reroute a session that is no longer active."""

    code = "session_ended"
    default_message = "This session has already ended."
