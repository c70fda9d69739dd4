"""Every format check matches the whole value: Python's `re.match` with a `$`-anchored
pattern also accepts the value followed by a newline (`$` matches before a trailing `\\n`),
so "+6281234567890\\n" passed as a phone number and was stored, and that mitra could never
sign in (Firebase's phone has no newline). The checks use `fullmatch`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.errors import InvalidRequest
from shared.schemas.admin.fields import _phone
from shared.schemas.devices import device_token
from tests.conftest import random_phone
from tests.hostile.support import assert_contract_error


def test_format_checks_refuse_a_trailing_newline():
    with pytest.raises(ValueError):
        _phone("+6281234567890\n")
    with pytest.raises(InvalidRequest):
        device_token("fcm-token:" + "a" * 40 + "\n")


def test_a_phone_with_a_trailing_newline_is_refused_and_nothing_stored(
    admin_api,
    make_operator,
    database,
):
    operator = make_operator("admin")
    phone = random_phone()
    response = admin_api.post(
        "/api/admin/mitras",
        json={"name": "Bestie Baris", "phone": phone + "\n"},
        headers=operator.headers,
    )
    assert_contract_error(response, 400)
    assert response.json()["error"]["code"] == "invalid_request"
    with database.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT count(*) FROM mitras WHERE phone LIKE :p"), {"p": phone + "%"}
        ).scalar_one()
    assert stored == 0
