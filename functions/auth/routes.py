"""Auth routes: client profiles and registration, mitra phone login, public app config, and
the push device registry of both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.domain import accounts, devices, settings
from shared.errors import Conflict, Forbidden, NotAMitra, NotFound, ProfileMissing, Suspended
from shared.identity.firebase import FirebaseUser
from shared.identity.policies import (
    CLIENT,
    FIREBASE_SIGNED_IN,
    FIREBASE_SIGNED_IN_EVEN_REVOKED,
    MITRA,
    OPEN,
    ClientCaller,
    MitraCaller,
)
from shared.lazy import lazy_module
from shared.schemas.accounts import (
    AnonymityOut,
    ClientProfileOut,
    DisplayNameIn,
    MitraProfileOut,
    PublicConfigOut,
)
from shared.schemas.devices import DeviceIn, DeviceOut, device_token
from shared.schemas.operations import HealthOut
from shared.schemas.privacy import ErasureOut, ExportOut
from shared.web import Api, Call, Reply

if TYPE_CHECKING:
    from shared.domain import erasure, exports
else:
    # Erasure and export are rare; with what they import (the pairing, session and audit
    # domain) they were ≈ 60 ms of this function's cold start. Loaded on first use.
    erasure = lazy_module("shared.domain.erasure")
    exports = lazy_module("shared.domain.exports")

api = Api("auth", title="Halo Bestie identity")


@api.get("/api/shared/health", auth=OPEN, response=HealthOut)
def health(call: Call[None]) -> HealthOut:
    """Liveness for the load balancer and uptime checks: no store is asked, nothing internal
    is said (operators' readiness view: GET /api/admin/health)."""
    return HealthOut(status="ok")


@api.get("/api/shared/config", auth=OPEN, response=PublicConfigOut)
def public_config(call: Call[None]) -> PublicConfigOut:
    """Settings the apps need before sign-in."""
    current = settings.current()
    return PublicConfigOut(
        heartbeat_interval_s=current.heartbeat_interval_s,
        heartbeat_timeout_s=current.heartbeat_timeout_s,
        search_window_s=current.search_window_s,
        trial_sessions=current.trial_sessions,
        anonymity=AnonymityOut(**current.anonymity.model_dump()),
    )


@api.post(
    "/api/client/auth/register",
    auth=FIREBASE_SIGNED_IN,
    body=DisplayNameIn,
    response=ClientProfileOut,
    status=201,
    errors=(Conflict, Suspended),
    also={200: "The profile already existed (idempotent)"},
)
def register(call: Call[FirebaseUser, DisplayNameIn]) -> Reply:
    """Create the client profile (anonymous allowed); 200 when it already exists."""
    user = call.caller
    client, created = accounts.register_client(user, call.body.display_name)
    return Reply(ClientProfileOut.of(client), status=201 if created else 200)


@api.get(
    "/api/client/auth/me",
    auth=CLIENT,
    response=ClientProfileOut,
)
def client_me(call: Call[ClientCaller]) -> ClientProfileOut:
    """The caller's client profile."""
    caller = call.caller
    return ClientProfileOut.of(caller.client)


@api.patch("/api/client/auth/me", auth=CLIENT, body=DisplayNameIn, response=ClientProfileOut)
def rename(call: Call[ClientCaller, DisplayNameIn]) -> ClientProfileOut:
    """Change the display name."""
    caller = call.caller
    return ClientProfileOut.of(accounts.rename_client(caller.client, call.body.display_name))


@api.delete(
    "/api/client/auth/me",
    auth=FIREBASE_SIGNED_IN_EVEN_REVOKED,
    response=ErasureOut,
    errors=(ProfileMissing, Forbidden),
)
def delete_me(call: Call[FirebaseUser]) -> ErasureOut:
    """Delete the caller's account: ends the open request and the active session (both sides
    are told), erases every personal field, the devices and the Firebase user; payments and
    ledger entries stay, pseudonymous. Idempotent: while the caller's token still verifies,
    a repeat answers the first call's result (suspended accounts may delete too)."""
    return ErasureOut.of(erasure.delete_own_account(call.caller))


@api.get(
    "/api/client/auth/me/export",
    auth=FIREBASE_SIGNED_IN,
    response=ExportOut,
    errors=(ProfileMissing, Forbidden),
)
def export_me(call: Call[FirebaseUser]) -> ExportOut:
    """Everything held about the caller (profile, balance, sessions, pairing requests,
    payments, ledger, devices) as one JSON document; suspended clients may export too;
    404 once the account is deleted."""
    return ExportOut.of(exports.export_for(call.caller))


@api.post("/api/client/auth/link", auth=CLIENT, response=ClientProfileOut, errors=(Conflict,))
def link(call: Call[ClientCaller]) -> ClientProfileOut:
    """Record that the anonymous account was linked to Google, Apple or phone."""
    caller = call.caller
    return ClientProfileOut.of(accounts.link_client(caller.client, caller.user))


@api.post(
    "/api/mitra/auth/login",
    auth=FIREBASE_SIGNED_IN,
    response=MitraProfileOut,
    errors=(NotAMitra, Suspended),
)
def mitra_login(call: Call[FirebaseUser]) -> MitraProfileOut:
    """Link a phone-OTP Firebase user to the mitra with that phone number."""
    return MitraProfileOut.of(accounts.login_mitra(call.caller))


@api.get("/api/mitra/auth/me", auth=MITRA, response=MitraProfileOut)
def mitra_me(call: Call[MitraCaller]) -> MitraProfileOut:
    """The caller's mitra profile."""
    caller = call.caller
    return MitraProfileOut.of(caller.mitra)


@api.post("/api/mitra/auth/logout", auth=MITRA, status=204)
def mitra_logout(call: Call[MitraCaller]) -> None:
    """Go offline (reason `logout`) and forget this mitra's push devices."""
    caller = call.caller
    accounts.logout_mitra(caller.mitra)


# -- push devices ---------------------------------------------------------------------------
# The token is the path's last segment (FCM tokens are URL-safe); an empty one matches too,
# so it is refused as a 400 naming the token rather than a bare 404.
CLIENT_DEVICE = "/api/client/devices/<string(minlength=0):token>"
MITRA_DEVICE = "/api/mitra/devices/<string(minlength=0):token>"


def _put_device(kind: devices.OwnerKind, owner_id: UUID, call: Call[Any, DeviceIn]) -> Reply:
    token = device_token(call.params["token"])
    body = call.body
    created = devices.register(
        kind,
        owner_id,
        token,
        platform=body.platform,
        app_version=body.app_version,
        locale=body.locale,
    )
    out = DeviceOut(platform=body.platform, app_version=body.app_version, locale=body.locale)
    return Reply(out, status=201 if created else 200)


@api.put(
    CLIENT_DEVICE,
    auth=CLIENT,
    body=DeviceIn,
    response=DeviceOut,
    status=201,
    also={200: "The device was known: updated"},
)
def put_client_device(call: Call[ClientCaller, DeviceIn]) -> Reply:
    """Register this phone for pushes (201), or refresh it (200); at most 10 per account."""
    caller = call.caller
    return _put_device("client", caller.client.id, call)


@api.delete(CLIENT_DEVICE, auth=CLIENT, status=204, errors=(NotFound,))
def delete_client_device(call: Call[ClientCaller]) -> None:
    """Stop pushes to this phone."""
    caller = call.caller
    devices.unregister("client", caller.client.id, device_token(call.params["token"]))


@api.put(
    MITRA_DEVICE,
    auth=MITRA,
    body=DeviceIn,
    response=DeviceOut,
    status=201,
    also={200: "The device was known: updated"},
)
def put_mitra_device(call: Call[MitraCaller, DeviceIn]) -> Reply:
    """Register this phone for pushes (201), or refresh it (200); at most 10 per account."""
    caller = call.caller
    return _put_device("mitra", caller.mitra.id, call)


@api.delete(MITRA_DEVICE, auth=MITRA, status=204, errors=(NotFound,))
def delete_mitra_device(call: Call[MitraCaller]) -> None:
    """Stop pushes to this phone."""
    caller = call.caller
    devices.unregister("mitra", caller.mitra.id, device_token(call.params["token"]))
