"""Helpers shared by the tests (clients of the local servers)."""
