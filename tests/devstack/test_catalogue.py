"""The function catalogue is read strictly: both its readers (the gateway here, Terraform's
yamldecode) would otherwise keep the last of two equal keys without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.catalogue import CATALOGUE_PATH, load_catalogue


def test_the_catalogue_names_each_function_once() -> None:
    names = [entry.name for entry in load_catalogue().functions]
    assert len(names) == len(set(names))
    assert "events" in names and "notifier" in names


def test_a_function_entered_twice_is_refused(tmp_path: Path) -> None:
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    entry = text[text.index("  notifier:") :]
    doubled = tmp_path / "catalogue.yaml"
    doubled.write_text(text.rstrip("\n") + "\n\n" + entry.split("\n\n")[0] + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'notifier' appears twice"):
        load_catalogue(doubled)
