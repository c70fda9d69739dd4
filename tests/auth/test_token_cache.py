"""The per-process cache of verified ID tokens (shared/identity/token_cache.py): a token is
kept only while its own `exp` has not passed, only after it verified, under its own hash;
and a cached token buys nothing against revocation or suspension, which are checked on
every request after verification as before."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.errors import Unauthenticated
from shared.identity import firebase, revocation
from shared.identity.token_cache import TokenCache
from tests.hostile.support import b64url

HEARTBEAT = "/api/mitra/presence/heartbeat"
PRESENCE = "/api/mitra/presence"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_expired_token_is_never_served_from_the_cache():
    clock = Clock()
    cache: TokenCache[str] = TokenCache(clock=clock)
    cache.put("token-a", "uid-a", expires_at=int(clock.now) + 60)
    clock.now += 59.9
    assert cache.get("token-a") == "uid-a"
    clock.now += 0.1  # exactly `exp`
    assert cache.get("token-a") is None
    assert len(cache) == 0


def test_a_token_is_kept_no_longer_than_the_max_age_nor_without_an_expiry():
    clock = Clock()
    cache: TokenCache[str] = TokenCache(max_age_s=10, clock=clock)
    cache.put("far-future", "uid", expires_at=int(clock.now) + 86_400)
    cache.put("no-exp", "uid", expires_at=None)
    cache.put("already-expired", "uid", expires_at=int(clock.now) - 1)
    assert cache.get("no-exp") is None
    assert cache.get("already-expired") is None
    clock.now += 10
    assert cache.get("far-future") is None


def test_a_different_token_never_gets_another_tokens_entry():
    clock = Clock()
    cache: TokenCache[str] = TokenCache(clock=clock)
    cache.put("token-a", "uid-a", expires_at=int(clock.now) + 60)
    assert cache.get("token-b") is None
    assert cache.get("token-a ") is None
    assert cache.get("token-a") == "uid-a"


def test_the_cache_is_bounded_least_recently_used_first():
    clock = Clock()
    cache: TokenCache[str] = TokenCache(max_entries=2, clock=clock)
    exp = int(clock.now) + 60
    cache.put("a", "1", exp)
    cache.put("b", "2", exp)
    assert cache.get("a") == "1"  # "b" is now the least recently used
    cache.put("c", "3", exp)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("1", None, "3")


def test_verified_tokens_are_cached_and_refused_ones_are_not(stack, make_mitra):
    mitra = make_mitra("Mitra Cache")
    token = mitra.account.id_token
    first = firebase.verify_id_token(token)
    assert firebase.verify_id_token(token) is first  # answered from the cache
    assert first.uid == mitra.account.uid

    other = make_mitra("Mitra Lain")
    assert firebase.verify_id_token(other.account.id_token).uid == other.account.uid

    # Valid shape, wrong audience: refused every time, never remembered.
    header = '{"alg":"none","typ":"JWT"}'
    payload = '{"sub":"x","aud":"another-project","exp":9999999999}'
    forged = f"{b64url(header)}.{b64url(payload)}."
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            firebase.verify_id_token(forged)
    assert firebase.verified.get(forged) is None


def test_a_cached_token_is_refused_once_its_user_is_revoked(api, make_mitra):
    mitra = make_mitra("Mitra Dicabut")
    assert api.put(PRESENCE, json={"status": "online"}, headers=mitra.headers).status_code == 200
    for _ in range(3):  # verified once by the server, then served from its cache
        assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204

    revocation.mark_revoked(mitra.account.uid)

    for method, path in (("POST", HEARTBEAT), ("GET", PRESENCE), ("GET", "/api/mitra/auth/me")):
        answer = api.request(method, path, headers=mitra.headers)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_cached_token_is_refused_once_its_mitra_is_suspended(api, database, make_mitra):
    from shared.domain import presence

    mitra = make_mitra("Mitra Diskors")
    assert api.put(PRESENCE, json={"status": "online"}, headers=mitra.headers).status_code == 200
    for _ in range(3):
        assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204
    assert api.get(PRESENCE, headers=mitra.headers).status_code == 200

    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE mitras SET status = 'suspended' WHERE id = :id"), {"id": mitra.id}
        )
    # What the admin function's suspend does after its UPDATE:
    presence.go_offline(mitra.id, "suspended")
    presence.forget_mitra_identity(mitra.account.uid)

    for method, path in (("POST", HEARTBEAT), ("GET", PRESENCE)):
        answer = api.request(method, path, headers=mitra.headers)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"]["code"] == "suspended"
