"""The payments function."""
