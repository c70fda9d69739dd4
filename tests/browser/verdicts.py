"""`python -m tests.browser.verdicts [out.json]`: start a private local stack on free ports
(its CORS lists naming the scenario's page origin), run the browser scenario in the system
Chromium, and print what the browser saw at each step — the before/after record of issue 12.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from devstack.servers import free_port
from devstack.stack import LocalStack, Ports, StackOptions
from tests.browser import scenario
from tests.browser.harness import OriginServer, chromium
from tests.support.firebase_accounts import FirebaseAccounts

PASSWORD = "verdict-admin-password"


def main() -> None:
    origin = OriginServer(free_port()).start()
    ports = Ports(*(free_port() for _ in range(7)))
    with tempfile.TemporaryDirectory() as data_dir:
        stack = LocalStack(
            StackOptions(
                data_dir=Path(data_dir),
                ports=ports,
                environment="test",
                sweep_interval_s=0,
                admin_password=PASSWORD,
                operator_token_secret=secrets.token_urlsafe(32),
                extra_env={
                    "CORS_ADMIN_ORIGINS": origin.allowed,
                    "CORS_PUBLIC_ORIGINS": origin.allowed,
                },
            )
        )
        stack.start()
        try:
            verdicts = _run(stack, origin)
        finally:
            stack.stop()
            origin.stop()
    text = json.dumps(_without_tickets(verdicts), indent=2, ensure_ascii=False)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")
    print(text)


def _run(stack: LocalStack, origin: OriginServer) -> dict[str, Any]:
    accounts = FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)
    with httpx.Client(base_url=stack.public_url, timeout=30) as api:
        client = accounts.sign_in_anonymously()
        registered = api.post(
            "/api/client/auth/register",
            json={"display_name": "Klien Peramban"},
            headers={"Authorization": f"Bearer {client.id_token}"},
        )
        registered.raise_for_status()
        phone = "+62813" + "".join(secrets.choice("0123456789") for _ in range(8))
        engine = sa.create_engine(stack.database_url)
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO mitras (name, phone) VALUES ('Mitra Peramban', :p)"),
                {"p": phone},
            )
        engine.dispose()
        mitra = accounts.sign_in_with_phone(phone)
        api.post(
            "/api/mitra/auth/login", headers={"Authorization": f"Bearer {mitra.id_token}"}
        ).raise_for_status()
    with httpx.Client(base_url=stack.admin_url, timeout=30) as admin:
        login = admin.post(
            "/api/admin/auth/login",
            json={"email": "admin@halobestie.local", "password": PASSWORD},
        )
        login.raise_for_status()
    targets = scenario.Targets(
        admin_url=stack.admin_url,
        public_url=stack.public_url,
        operator_email="admin@halobestie.local",
        operator_password=PASSWORD,
        client_token=client.id_token,
        mitra_token=mitra.id_token,
        fallback_operator_token=login.json()["token"],
    )
    with chromium() as browser:
        return scenario.run(browser, origin, targets)


def _without_tickets(value: Any) -> Any:
    """Tokens and tickets stay out of the record."""
    if isinstance(value, dict):
        return {
            k: ("…" if k in ("ticket", "token") else _without_tickets(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_tickets(v) for v in value]
    return value


if __name__ == "__main__":
    main()
