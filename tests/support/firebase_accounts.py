"""Real Firebase ID tokens from the Auth emulator's REST API, as the mobile apps would get them.

Tests go through our real auth layer (firebase-admin in emulator mode) instead of faking it,
so each helper performs the same REST calls the Firebase client SDKs make. The emulator
accepts any non-empty `?key=` and maps every key to the project it was started with, so
`project_id` must be that project.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

API_KEY = "fake-api-key"
_OWNER = {"Authorization": "Bearer owner"}
"""The emulator's admin credential: allows privileged calls such as `targetProjectId`."""


class FirebaseAuthError(RuntimeError):
    """The emulator refused a call; `code` is Firebase's error code, e.g. `EMAIL_EXISTS`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.code = message.split(" ", 1)[0]


@dataclass(frozen=True)
class Account:
    """A signed-in Firebase user as the app holds it."""

    uid: str
    id_token: str
    refresh_token: str

    @property
    def claims(self) -> dict[str, Any]:
        return decode_claims(self.id_token)


def decode_claims(token: str) -> dict[str, Any]:
    """The JWT payload, unverified: emulator tokens are unsigned (alg "none") anyway."""
    payload = token.split(".")[1]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    claims: dict[str, Any] = json.loads(decoded)
    return claims


def _google_sub(email: str) -> str:
    """A stable 21-digit Google account id per email, so one email is one Google user."""
    return str(int(hashlib.sha256(email.encode()).hexdigest(), 16))[:21]


class FirebaseAccounts:
    """Signs users in and links providers on the emulator at `host_port`."""

    def __init__(self, host_port: str, project_id: str, *, timeout: float = 10.0) -> None:
        self.project_id = project_id
        self._http = httpx.Client(base_url=f"http://{host_port}", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---------------------------------------------------------------------------- sign-in

    def sign_in_anonymously(self) -> Account:
        return self._account(self._identity("accounts:signUp", {"returnSecureToken": True}))

    def sign_in_with_phone(self, phone_e164: str) -> Account:
        """Phone OTP: the existing user of that number, or a new one."""
        return self._account(self._verify_phone(phone_e164))

    def sign_in_email_password(self, email: str, password: str) -> Account:
        """Sign up, or sign in when the email is already registered."""
        body = {"email": email, "password": password, "returnSecureToken": True}
        try:
            return self._account(self._identity("accounts:signUp", body))
        except FirebaseAuthError as exc:
            if exc.code != "EMAIL_EXISTS":
                raise
        return self._account(self._identity("accounts:signInWithPassword", body))

    def sign_in_with_google(self, email: str) -> Account:
        """Google sign-in of a (new or returning) Google user with this email."""
        return self._account(self._google_idp(email))

    def refresh(self, account: Account) -> Account:
        """Exchange the refresh token, e.g. to see custom claims set by firebase-admin."""
        response = self._http.post(
            "/securetoken.googleapis.com/v1/token",
            params={"key": API_KEY},
            data={"grant_type": "refresh_token", "refresh_token": account.refresh_token},
        )
        body = self._json(response)
        return Account(body["user_id"], body["id_token"], body["refresh_token"])

    # ---------------------------------------------------------------------------- linking

    def link_phone(self, account: Account, phone_e164: str) -> Account:
        """Link a phone number to `account` (typically anonymous); the uid stays the same."""
        return self._account(self._verify_phone(phone_e164, id_token=account.id_token))

    def link_email_password(self, account: Account, email: str, password: str) -> Account:
        body = {
            "idToken": account.id_token,
            "email": email,
            "password": password,
            "returnSecureToken": True,
        }
        return self._account(self._identity("accounts:update", body))

    def link_google(self, account: Account, email: str) -> Account:
        """Link a Google identity, the way the SDK's linkWithCredential does."""
        return self._account(self._google_idp(email, id_token=account.id_token))

    # ------------------------------------------------------------------- foreign projects

    def token_for_other_project(
        self,
        other_project_id: str = "demo-other-project",
        email: str = "someone@other-project.example",
        password: str = "other-project-password",  # noqa: S107 (emulator-only user)
    ) -> Account:
        """A genuine emulator ID token whose `aud`/`iss` name another project.

        Sign-in endpoints map `?key` to the emulator's own project, but privileged requests
        (`Bearer owner`) may name a `targetProjectId`; in singleProjectMode the emulator only
        logs a warning about it.
        """
        credentials = {"email": email, "password": password}
        try:
            self._identity(f"projects/{other_project_id}/accounts", credentials, owner=True)
        except FirebaseAuthError as exc:
            if exc.code != "EMAIL_EXISTS":
                raise
        body = {**credentials, "targetProjectId": other_project_id, "returnSecureToken": True}
        return self._account(self._identity("accounts:signInWithPassword", body, owner=True))

    # ---------------------------------------------------------------------------- plumbing

    def _verify_phone(self, phone_e164: str, id_token: str | None = None) -> dict[str, Any]:
        sent = self._identity("accounts:sendVerificationCode", {"phoneNumber": phone_e164})
        session_info = str(sent["sessionInfo"])
        body = {"sessionInfo": session_info, "code": self._sent_code(session_info)}
        if id_token is not None:
            body["idToken"] = id_token
        return self._identity("accounts:signInWithPhoneNumber", body)

    def _sent_code(self, session_info: str) -> str:
        """Read the OTP the emulator "texted", as a human would read the SMS."""
        response = self._http.get(f"/emulator/v1/projects/{self.project_id}/verificationCodes")
        for sent in self._json(response).get("verificationCodes", []):
            if sent.get("sessionInfo") == session_info:
                return str(sent["code"])
        raise FirebaseAuthError(
            404, f"NO_CODE : no verification code for session in project {self.project_id}"
        )

    def _google_idp(self, email: str, id_token: str | None = None) -> dict[str, Any]:
        # The emulator takes the Google id_token as plain JSON claims; no signature needed.
        google_claims = {"sub": _google_sub(email), "email": email, "email_verified": True}
        body: dict[str, Any] = {
            "requestUri": "http://localhost",
            "postBody": urlencode(
                {"id_token": json.dumps(google_claims), "providerId": "google.com"}
            ),
            "returnSecureToken": True,
            "returnIdpCredential": True,
        }
        if id_token is not None:
            body["idToken"] = id_token
        return self._identity("accounts:signInWithIdp", body)

    def _identity(
        self, method: str, body: dict[str, Any], *, owner: bool = False
    ) -> dict[str, Any]:
        response = self._http.post(
            f"/identitytoolkit.googleapis.com/v1/{method}",
            params={"key": API_KEY},
            json=body,
            headers=_OWNER if owner else None,
        )
        return self._json(response)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.is_error:
            try:
                message = str(response.json()["error"]["message"])
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise FirebaseAuthError(response.status_code, message)
        body: dict[str, Any] = response.json()
        return body

    @staticmethod
    def _account(body: dict[str, Any]) -> Account:
        """Turn a sign-in answer into an Account, or raise the conflict it reports.

        Linking a phone or Google identity that belongs to another user answers HTTP 200
        without tokens (the SDKs raise `auth/credential-already-in-use` from it).
        """
        if "errorMessage" in body:
            raise FirebaseAuthError(200, str(body["errorMessage"]))
        if "idToken" not in body:
            reason = (
                "PHONE_NUMBER_EXISTS : the number belongs to another user"
                if "temporaryProof" in body
                else f"NO_ID_TOKEN : {body}"
            )
            raise FirebaseAuthError(200, reason)
        return Account(
            uid=body["localId"], id_token=body["idToken"], refresh_token=body["refreshToken"]
        )
