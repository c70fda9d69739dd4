"""One code, one status: declaring a code with a second status stops the import; routes take
error classes only."""

from __future__ import annotations

import pytest

from shared import errors
from shared.identity.policies import OPEN
from shared.web import Api


def test_a_code_with_a_second_status_is_refused_when_declared():
    with pytest.raises(TypeError, match="registration_required"):

        class NoProfile(errors.DomainError):  # the bug issue 15 found: 403 and 404 at once
            code = "registration_required"
            status = 404

    assert errors.STATUS_BY_CODE["registration_required"] == 403


def test_every_error_class_answers_the_status_of_its_code():
    pending = [errors.DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("tests."):  # the refused probe above lives on until GC
            continue
        assert errors.STATUS_BY_CODE[cls.code] == cls.status, cls


def test_routes_declare_error_classes_not_code_strings():
    api = Api("probe", title="probe")
    with pytest.raises(TypeError, match="DomainError classes"):
        api.get("/api/probe", auth=OPEN, errors=("not_found",))
