"""`python -m simulate` (what `nox -s simulate` runs): the main job made visible.

A private local stack on free ports, N mitras (online, heartbeating, accepting offers with
human-like delays, some dropping their connection) and M clients (requesting, cancelling,
ending sessions) for a fixed time, a live terminal view, a JSON summary in
simulate/results/latest.json, and the invariants checked against PostgreSQL and Valkey at the
end (the exit code is non-zero if one fails). See docs/proof.md.

`--profile design-target [--scale 0.x]` runs scale.md's design target (or that share of it)
on several processes per public function behind the local balancer, driven by one asyncio
load generator (simulate/target.py, simulate/design.py), and adds the resource figures
(simulate/resources.py). See docs/proof.md, "Design-target profile", and docs/capacity.md.
"""
