"""Request and response models are built on first use, not at import (shared.schemas.common):
a cold instance builds only the models its first requests use, and concurrent first
requests get the same answers as later ones."""

from __future__ import annotations

import pytest

from tests.support.fresh_interpreter import HTTP_SOURCES, run_probe

_BUILT_AT_IMPORT = """
import json
import functions.{source}.main
from shared.schemas.common import RequestModel, ResponseModel
from shared.schemas.events import EventData

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = [m for base in (RequestModel, ResponseModel, EventData) for m in subclasses(base)]
print(json.dumps({{"models": len(models),
                  "built": [m.__name__ for m in models if m.__pydantic_complete__]}}))
"""

# Many threads validate the same never-built models at once, as a cold instance's first
# concurrent requests do: every valid body parses, every invalid one is refused by name.
_CONCURRENT_FIRST_USE = """
import json, threading
from pydantic import ValidationError
from shared.schemas.accounts import DisplayNameIn

assert not DisplayNameIn.__pydantic_complete__
start = threading.Barrier(16)
results = []

def first_request(n):
    start.wait()
    ok = DisplayNameIn.model_validate({"display_name": f"Nama {n}"}).display_name
    try:
        DisplayNameIn.model_validate({"display_name": "Nama", "typo": 1})
        refused = None
    except ValidationError as exc:
        refused = [e["type"] for e in exc.errors()]
    results.append((ok == f"Nama {n}", refused))

threads = [threading.Thread(target=first_request, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(results))
"""


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_importing_a_function_builds_none_of_its_models(source):
    found = run_probe(_BUILT_AT_IMPORT.format(source=source))
    assert isinstance(found, dict)
    assert found["built"] == []


def test_concurrent_first_use_of_a_deferred_model_validates_alike():
    results = run_probe(_CONCURRENT_FIRST_USE)
    assert results == [[True, ["extra_forbidden"]]] * 16
