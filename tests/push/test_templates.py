"""Push texts are operator settings: partial edits merge, markup/length/placeholders are
refused with nothing saved, and the next push uses the edited text (by device locale)."""

from __future__ import annotations

import uuid

import pytest

from shared.domain import settings
from shared.domain.push_text import render
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


@pytest.mark.parametrize(
    "body",
    [
        # a format spec pads to any size (the padding was stripped before the length check)
        "{count:^999999999} orang menunggu",
        "{count:0999999999}",
        "{count!r} orang menunggu",
        "{count.real} orang menunggu",
        "{count[0]} orang menunggu",
    ],
)
def test_the_count_placeholder_is_bare_or_refused(admin_api, admin, body):  # noqa: F811
    before = admin_api.get(SETTINGS, headers=admin.headers).json()
    response = admin_api.put(
        SETTINGS,
        json={"push_templates": {"clients_waiting": {"id": {"title": "Halo", "body": body}}}},
        headers=admin.headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert admin_api.get(SETTINGS, headers=admin.headers).json() == before


def test_a_placeholder_never_makes_a_push_fail(
    admin_api,
    admin,  # noqa: F811
    restore_settings,
):
    """A 180-character body with `{count}` is over the limit once rendered: the text is cut,
    not refused (refusing failed the event into Pub/Sub redeliveries)."""
    body = "x" * 173 + "{count}"
    response = admin_api.put(
        SETTINGS,
        json={"push_templates": {"clients_waiting": {"en": {"title": "Halo", "body": body}}}},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    text = render(settings.current().push_templates, "clients_waiting", "en", count=12_345_678)
    assert text.body == ("x" * 173 + "12345678")[:180]


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
