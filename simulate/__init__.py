"""`python -m simulate` (what `nox -s simulate` runs): the main job made visible.

A private local stack on free ports, N mitras (online, heartbeating, accepting offers with
human-like delays, some dropping their connection) and M clients (requesting, cancelling,
ending sessions) for a fixed time, a live terminal view, a JSON summary in
simulate/results/latest.json, and the invariants checked against PostgreSQL and Valkey at the
end (the exit code is non-zero if one fails). See docs/proof.md.
"""
