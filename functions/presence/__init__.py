"""The presence function."""
