"""A client generated from the served public documents drives one whole flow: an anonymous
client registers and asks for a bestie, a mitra (through the client generated from the mitra
document) logs in, goes online and accepts, the client reads the session and ends it.

The generator (openapi-python-client, from PyPI) runs here on the documents the stack serves,
reading local files only: no network. Its post-hooks (ruff formatting) are switched off. Only
the generated code talks to the API in the flow; the documents themselves are fetched once,
and the mitra's row is inserted as an operator's create would (tests/conftest make_mitra).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import random_phone


def _generate(tmp: Path, name: str, document: dict[str, Any]) -> None:
    source = tmp / f"{name}.json"
    source.write_text(json.dumps(document))
    config = tmp / "generator.yaml"
    config.write_text("post_hooks: []\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(source),
            "--output-path",
            str(tmp / name),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # Any network use would go through a proxy that is not there: generation is offline.
        env={
            **os.environ,
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "",
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A warning means a part of our document the generator could not use: fix the document.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.fixture(scope="module")
def generated(documents, tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("generated")
    for audience in ("client", "mitra"):
        _generate(tmp, f"halo_{audience}_api", documents[audience])
    sys.path.insert(0, str(tmp))
    yield {"client": "halo_client_api", "mitra": "halo_mitra_api"}
    sys.path.remove(str(tmp))


def _module(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def test_a_generated_client_drives_register_request_accept_read_end(
    generated, stack, accounts, database
):
    c, m = generated["client"], generated["mitra"]
    client_sdk, mitra_sdk = _module(c, "client"), _module(m, "client")

    # The client: anonymous sign-in (Firebase), then only generated calls.
    anonymous = accounts.sign_in_anonymously()
    client = client_sdk.AuthenticatedClient(
        base_url=stack.public_url, token=anonymous.id_token, raise_on_unexpected_status=True
    )
    register = _module(c, "api.auth.register")
    display_name_in = _module(c, "models").DisplayNameIn
    profile = register.sync_detailed(client=client, body=display_name_in(display_name="Rina"))
    assert profile.status_code == 201
    assert profile.parsed.display_name == "Rina"

    # The mitra: created as an operator would, phone OTP in Firebase, then generated calls.
    phone = random_phone()
    with database.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO mitras (name, phone) VALUES ('Mitra Generated', :p)"), {"p": phone}
        )
    mitra = mitra_sdk.AuthenticatedClient(
        base_url=stack.public_url,
        token=accounts.sign_in_with_phone(phone).id_token,
        raise_on_unexpected_status=True,
    )
    login = _module(m, "api.auth.mitra_login").sync_detailed(client=mitra)
    assert login.status_code == 200
    mitra_models = _module(m, "models")
    set_presence = _module(m, "api.presence.set_presence")
    online = set_presence.sync(
        client=mitra, body=mitra_models.PresenceIn(status=mitra_models.PresenceInStatus.ONLINE)
    )
    assert online.status.value == "online"

    try:
        created = _module(c, "api.pairing.create_request").sync_detailed(client=client)
        assert created.status_code == 201
        request = created.parsed
        assert request.status.value == "searching"

        offers = _module(m, "api.pairing.open_offers").sync(client=mitra)
        assert request.id in {offer.id for offer in offers.items}
        accepted = _module(m, "api.pairing.accept").sync_detailed(request.id, client=mitra)
        assert accepted.status_code == 200
        session_id = accepted.parsed.session_id

        session = _module(c, "api.sessions.client_get").sync(session_id, client=client)
        assert (session.id, session.status.value) == (session_id, "active")
        ended = _module(c, "api.sessions.client_end").sync(
            session_id, client=client, body=_module(c, "models").EndSessionIn(reason="selesai")
        )
        assert ended.status.value == "ended"
        assert ended.ended_by.value == "client"
        mine = _module(m, "api.sessions.mitra_get").sync(session_id, client=mitra)
        assert mine.status.value == "ended"
    finally:
        set_presence.sync(
            client=mitra,
            body=mitra_models.PresenceIn(status=mitra_models.PresenceInStatus.OFFLINE),
        )
