"""The pairing function."""
