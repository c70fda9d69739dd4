"""Real local servers (PostgreSQL, Valkey, Firebase Auth emulator) for the dev stack and tests.

Nothing here is deployed: production uses Cloud SQL, Memorystore and Firebase Auth.
"""
