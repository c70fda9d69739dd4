"""The FCM HTTP v1 stand-in refuses what FCM refuses (no bearer, a malformed message), so the
notifier's requests are checked against the v1 shape, not just recorded."""

from __future__ import annotations

import httpx
import pytest

from devstack.fcm_standin import Invalid, validate
from shared import fcm

PATH = "/v1/projects/demo-halo-bestie/messages:send"
GOOD = {"message": {"token": "tok-1234567890abcdef", "data": {"type": "x"}}}


@pytest.mark.parametrize("platform", ["android", "ios", "web"])
def test_every_platform_message_the_notifier_builds_is_valid_v1(platform):
    push = fcm.Push("tok-1234567890abcdef", platform, "T", "B", {"a": "1"}, "k", 30, True)
    assert validate({"message": fcm.message(push)})["token"] == push.token


def test_a_bearer_is_required(stack):
    response = httpx.post(stack.fcm_url + PATH, json=GOOD)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"token": "t", "data": {"n": 1}}},
        {"message": {"topic": "news"}},
        {"message": {"token": "t", "android": {"priority": "URGENT"}}},
        {"message": {"token": "t", "android": {"ttl": "30"}}},
        {"message": {"token": "t", "colour": "red"}},
        {"msg": {}},
    ],
)
def test_malformed_requests_are_invalid_argument(stack, body):
    with pytest.raises(Invalid):
        validate(body)
    response = httpx.post(stack.fcm_url + PATH, json=body, headers={"Authorization": "Bearer x"})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_errors_are_classified_as_fcm_documents_them():
    def body(status, code, field=None):
        details = [{"errorCode": code}]
        if field:
            details.append({"fieldViolations": [{"field": field}]})
        return {"error": {"status": status, "message": "m", "details": details}}

    assert fcm.classify(404, body("NOT_FOUND", "UNREGISTERED")) == "unregistered"
    assert fcm.classify(400, body("INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.token")) == (
        "invalid"
    )
    assert fcm.classify(400, body("INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.data")) == (
        "dropped"
    )
    assert fcm.classify(429, body("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")) == "transient_failure"
    assert fcm.classify(503, body("UNAVAILABLE", "UNAVAILABLE")) == "transient_failure"
    assert fcm.classify(500, {}) == "transient_failure"
    assert fcm.classify(403, body("PERMISSION_DENIED", "SENDER_ID_MISMATCH")) == "invalid"
    assert fcm.classify(401, body("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")) == "dropped"
