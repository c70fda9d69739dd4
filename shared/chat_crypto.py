"""Message text encrypted at rest by the application: AES-256-GCM with a key id per message.

The keyring comes from configuration (`CHAT_KEYS`, in production a Secret Manager secret):
`kid:base64key[,kid:base64key…]`, every key 32 bytes. New messages are encrypted under
`CHAT_ACTIVE_KEY_ID`, or when that is unset under the last key listed; any key still in the
ring decrypts what it encrypted, so rotating is: append a new key (it becomes the active
one), and keep the old ones for as long as messages under them are retained
(docs/chat.md). A fresh 96-bit random nonce per message (the GCM limit of 2^32 messages
per key is far beyond a key's life here). The associated data binds a ciphertext to its
session and message id: a row moved to another session, or swapped with another row,
fails to decrypt instead of showing the wrong text.

Nothing here logs key material or text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from shared.config import get_config

if TYPE_CHECKING:
    # Imported where used: cryptography costs cold start to functions whose first request
    # reads or writes no chat message.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class KeyringError(Exception):
    """The keyring is missing or malformed: chat cannot store or read text (a 503)."""


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, AESGCM]
    active: str

    def seal(self, text: str, session_id: UUID, message_id: UUID) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.active].encrypt(
            nonce, text.encode("utf-8"), _associated(session_id, message_id)
        )
        return Sealed(self.active, nonce, sealed)

    def open(self, sealed: Sealed, session_id: UUID, message_id: UUID) -> str:
        key = self.keys.get(sealed.key_id)
        if key is None:
            raise KeyringError(f"message key {sealed.key_id!r} is not in the keyring")
        from cryptography.exceptions import InvalidTag

        try:
            plain = key.decrypt(
                sealed.nonce, sealed.ciphertext, _associated(session_id, message_id)
            )
        except InvalidTag:
            raise KeyringError("a message failed authentication") from None
        return plain.decode("utf-8")


def _associated(session_id: UUID, message_id: UUID) -> bytes:
    return f"halo-chat/v1/{session_id}/{message_id}".encode()


def parse(raw: str, active: str) -> Keyring:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keys: dict[str, AESGCM] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        kid, sep, encoded = part.partition(":")
        if not sep or not _KID.fullmatch(kid):
            raise KeyringError("CHAT_KEYS entries are kid:base64key")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"CHAT_KEYS key {kid!r} is not base64") from None
        if len(key) != KEY_BYTES:
            raise KeyringError(f"CHAT_KEYS key {kid!r} must be {KEY_BYTES} bytes")
        keys[kid] = AESGCM(key)
    if not keys:
        raise KeyringError("CHAT_KEYS is empty: chat text cannot be stored")
    active = active or list(keys)[-1]  # unset: the last key listed (rotation appends)
    if active not in keys:
        raise KeyringError("CHAT_ACTIVE_KEY_ID names no key in CHAT_KEYS")
    return Keyring(keys, active)


def new_key_entry(kid: str) -> str:
    """One `kid:base64key` entry with a fresh random key (dev stacks, rotation)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


_lock = threading.Lock()
_cached: tuple[tuple[str, str], Keyring] | None = None


def keyring() -> Keyring:
    """The process's keyring, parsed once per configuration."""
    global _cached
    config = get_config()
    raw = config.chat_keys.get_secret_value()
    active = config.chat_active_key_id
    cached = _cached
    if cached is not None and cached[0] == (raw, active):
        return cached[1]
    with _lock:
        ring = parse(raw, active)
        _cached = ((raw, active), ring)
        return ring
