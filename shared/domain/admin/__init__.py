"""The control center's rules for resources the apps also use (clients, mitras, packages,
payments, sessions, settings): search, edit, suspend, end — each write audited. Rules about
things only operators have (operators, audit, dashboard, online logs, reroute) live beside
the other domain modules under their plain names."""
