"""The presence Lua scripts against real Valkey, raced from many threads."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared import valkey

NOW = 1_800_000_000_000
CUTOFF = NOW - 60_000


@pytest.fixture
def key(stack):
    name = f"test:presence:{uuid.uuid4().hex}"
    yield name
    valkey.client().delete(name, f"{name}:available", f"{name}:load", f"{name}:capacity")


def _claim(key: str, limit: int, *only: str) -> list[str]:
    flat = valkey.script("presence_claim_lapsed")(
        keys=[key, f"{key}:available"], args=[CUTOFF, limit, *only]
    )
    return flat[0::2]


def _beat(uid_key: str, key: str, now: int, resolved: str = "", restore: bool = False):
    return valkey.script("presence_heartbeat")(
        keys=[uid_key, key, f"{key}:available", f"{key}:load", f"{key}:capacity"],
        args=[now, now - 60_000, resolved, 60, int(restore), 1],
    )


def test_racing_claims_take_each_lapsed_member_exactly_once(key):
    lapsed = [f"m{i}" for i in range(300)]
    fresh = [f"f{i}" for i in range(100)]
    valkey.client().zadd(key, {m: CUTOFF - 1 - i for i, m in enumerate(lapsed)})
    valkey.client().zadd(key, {m: CUTOFF + i for i, m in enumerate(fresh)})

    def drain(_: int) -> list[str]:
        taken: list[str] = []
        while batch := _claim(key, 7):
            taken.extend(batch)
        return taken

    with ThreadPoolExecutor(max_workers=8) as pool:
        claimed = Counter(m for batch in pool.map(drain, range(8)) for m in batch)

    assert set(claimed) == set(lapsed)
    assert set(claimed.values()) == {1}
    assert valkey.client().zcard(key) == len(fresh)


def test_claim_of_named_members_skips_fresh_and_absent_ones(key):
    valkey.client().zadd(key, {"old": CUTOFF - 1, "new": CUTOFF})

    assert _claim(key, 10, "old", "new", "gone") == ["old"]
    assert valkey.client().zscore(key, "new") == CUTOFF


def test_heartbeat_racing_claims_is_either_kept_or_refused_never_lost(key):
    uid_key = f"{key}:uid"
    valkey.client().set(uid_key, "m")
    valkey.client().zadd(key, {"m": NOW - 1000})
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            beats = list(pool.map(lambda i: _beat(uid_key, key, NOW + i)[0], range(200)))
            claims = list(pool.map(lambda _: _claim(key, 10), range(50)))
    finally:
        valkey.client().delete(uid_key)

    assert set(beats) == {"ok"}
    assert not any(claims)  # a member kept fresh by heartbeats is never claimed
    assert valkey.client().zscore(key, "m") == NOW + 199  # GT: the latest beat wins


def test_heartbeat_never_revives_an_absent_or_lapsed_member(key):
    uid_key = f"{key}:uid"
    valkey.client().set(uid_key, "m")
    try:
        assert _beat(uid_key, key, NOW) == ["not_online", "m"]
        valkey.client().zadd(key, {"m": NOW - 60_001})
        assert _beat(uid_key, key, NOW) == ["not_online", "m"]
        assert valkey.client().zscore(key, "m") == NOW - 60_001
    finally:
        valkey.client().delete(uid_key)


def test_heartbeat_cache_miss_answers_unknown_and_a_resolved_call_caches(key):
    uid_key = f"{key}:uid"
    try:
        assert _beat(uid_key, key, NOW) == ["unknown", ""]
        assert _beat(uid_key, key, NOW, resolved="m", restore=True) == ["ok", "m"]
        assert valkey.client().get(uid_key) == "m"
        assert 0 < valkey.client().ttl(uid_key) <= 60
        assert valkey.client().zscore(key, "m") == NOW
    finally:
        valkey.client().delete(uid_key)


def test_forget_unchanged_spares_members_refreshed_meanwhile(key):
    valkey.client().zadd(key, {"a": 10, "b": 20})
    valkey.client().zadd(key, {"b": 25})  # refreshed after it was read as 20

    removed = valkey.script("presence_forget_unchanged")(
        keys=[key, f"{key}:available"], args=["a", "10.0", "b", "20.0", "c", "5"]
    )

    assert removed == 1
    assert valkey.client().zrange(key, 0, -1) == ["b"]


def test_hash_compare_and_set_applies_only_unchanged_fields(key):
    valkey.client().hset(key, mapping={"a": "1", "b": "2"})
    script = valkey.script("presence_hash_cas")

    changed = script(keys=[key], args=["a", "1", "5", "b", "9", "7", "c", "", "3", "a", "5", ""])

    assert changed == 3
    assert valkey.client().hgetall(key) == {"b": "2", "c": "3"}


def test_hash_compare_and_set_racing_increments_loses_none(key):
    script = valkey.script("presence_hash_cas")
    valkey.client().hset(key, "m", "0")

    def increment(_: int) -> None:
        valkey.client().hincrby(key, "m", 1)

    def rebuild(_: int) -> int:
        seen = valkey.client().hget(key, "m") or ""
        return int(script(keys=[key], args=["m", seen, seen]))  # a no-op rewrite

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: increment(i) if i % 2 else rebuild(i), range(400)))

    assert valkey.client().hget(key, "m") == "200"


def test_every_script_compiles_with_its_shared_steps_inlined(stack):
    from importlib import resources

    names = [
        entry.name.removesuffix(".lua")
        for entry in resources.files("shared.lua").iterdir()
        if entry.name.endswith(".lua")
    ]
    for name in names:
        source = valkey.script_source(name)
        assert not any(line.startswith("--! include") for line in source.splitlines()), name
        # SCRIPT LOAD compiles: an unknown step or a Lua syntax error fails here.
        assert valkey.client().script_load(source), name
    # The load-restore rule lives in one file, used by both scripts that rebuild presence.
    for name in ("presence_heartbeat", "presence_load_restore"):
        assert valkey.script_source(name).count("local function restore_load(") == 1


def test_claims_and_releases_share_one_capacity_rule(stack):
    # Taking a unit (accept, reroute) and giving it back (session end, failed match) are
    # each written once in shared/lua/steps/ and inlined in every script that uses them.
    for step, names in (
        ("take_unit", ("claim", "reroute_claim")),
        ("release_unit", ("release_load", "unclaim")),
    ):
        for name in names:
            assert valkey.script_source(name).count(f"local function {step}(") == 1, name


def test_the_domain_never_talks_to_valkey_itself():
    # Live state has one owner (shared/store/live): domain modules call its functions.
    import pathlib
    import re

    import shared.domain

    root = pathlib.Path(shared.domain.__file__).parent
    uses = re.compile(r"from shared import [^\n]*\bvalkey\b|\bvalkey\.(client|script)\(")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if uses.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
