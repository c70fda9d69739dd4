"""Push texts are operator settings: partial edits merge, markup/length/placeholders are
refused with nothing saved, and the next push uses the edited text (by device locale)."""

from __future__ import annotations

import uuid

import pytest

from shared.domain import settings
from tests.admin.conftest import admin, make_operator, root  # noqa: F401
from tests.push.conftest import deliver, pushes

SETTINGS = "/api/admin/settings"


@pytest.fixture
def restore_settings():
    saved = settings.current()
    yield
    settings.save(saved, None)


@pytest.mark.parametrize(
    "text",
    [
        {"title": "Halo", "body": "<b>Bold</b>"},
        {"title": "Halo", "body": "See https://example.com"},
        {"title": "Halo", "body": "x" * 181},
        {"title": "", "body": "Kosong"},
        {"title": "Halo", "body": "Sesi {session_id}"},
        {"title": "Halo", "body": "Halo\u202eterbalik"},
    ],
)
def test_bad_templates_are_refused_and_save_nothing(admin_api, admin, text):  # noqa: F811
    before = admin_api.get(SETTINGS, headers=admin.headers).json()
    response = admin_api.put(
        SETTINGS, json={"push_templates": {"session_ended": {"en": text}}}, headers=admin.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert admin_api.get(SETTINGS, headers=admin.headers).json() == before


def test_edited_template_is_used_by_the_next_push_in_the_device_language(
    admin_api,
    admin,  # noqa: F811
    stack,
    fcm,
    make_client,
    register_device,
    restore_settings,
):
    edited = {"title": "Halo Bestie", "body": "Sesi selesai. Sampai jumpa lagi."}
    response = admin_api.put(
        SETTINGS, json={"push_templates": {"session_ended": {"id": edited}}}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    templates = response.json()["push_templates"]
    assert templates["session_ended"]["en"]["body"] == "Your chat has ended."  # kept
    assert templates["matched"]["id"]["title"] == "Halo Bestie"

    client = make_client()
    indonesian = register_device(client, "client", locale="in_ID")
    english = register_device(client, "client", locale="en-GB")
    data = {"session_id": str(uuid.uuid4()), "client_id": client.id, "ended_by": "mitra"}
    assert deliver(stack, "session.ended", data) == 200
    assert pushes(fcm, indonesian)[0]["notification"] == edited
    assert pushes(fcm, english)[0]["notification"]["body"] == "Your chat has ended."
