"""The sessions function."""
