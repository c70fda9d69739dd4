"""`python -m devstack` (what `nox -s dev` runs): the local stack on the contract's ports,
until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from devstack.stack import DEV_ORIGINS, REPO_ROOT, LocalStack, StackOptions, parse_instances


def main() -> None:
    options = StackOptions(
        data_dir=Path(os.environ.get("HALO_DATA_DIR", REPO_ROOT / ".local" / "dev")),
        database_url=os.environ.get("DATABASE_URL"),
        valkey_url=os.environ.get("VALKEY_URL"),
        admin_password=os.environ.get("HALO_ADMIN_PASSWORD", "halo-admin-dev"),
        xendit_callback_token=os.environ.get("XENDIT_CALLBACK_TOKEN", "dev-callback-token"),
        sweep_interval_s=float(os.environ.get("SWEEP_INTERVAL_S", "60")),
        cors_admin_origins=_origins("CORS_ADMIN_ORIGINS"),
        cors_public_origins=_origins("CORS_PUBLIC_ORIGINS"),
        # e.g. HALO_INSTANCES=pairing=2,presence=2: several processes behind a balancer.
        instances=parse_instances(os.environ.get("HALO_INSTANCES", "")),
    )
    stack = LocalStack(options)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    print("Starting Halo Bestie local stack…", flush=True)
    stack.start()
    print(
        "\nHalo Bestie local stack is up:\n"
        f"  public API (client & mitra apps)  {stack.public_url}\n"
        f"  admin API (control center)        {stack.admin_url}\n"
        f"  browser origins allowed (CORS)    {', '.join(options.cors_admin_origins)}\n"
        f"  Firebase Auth emulator            {stack.emulator.url}"
        f"  project {stack.emulator.project_id}\n"
        f"  Xendit stand-in                   {stack.xendit_url}\n"
        f"  sweeper (CloudEvent target)       {stack.sweeper_url}"
        f"  every {options.sweep_interval_s:g} s\n"
        f"  notifier (domain-event CloudEvents) {stack.notifier_url}\n"
        f"  FCM HTTP v1 stand-in              {stack.fcm_url}  (GET /_standin/messages)\n"
        f"  PostgreSQL                        {_without_password(stack.database_url)}\n"
        f"  Valkey                            {stack.valkey_url}\n"
        f"  superadmin                        admin@halobestie.local\n"
        f"  seeded mitra phones               +6281100000001..3\n"
        f"  logs                              {options.data_dir / 'logs'}\n"
        "Ctrl-C stops everything.",
        flush=True,
    )
    stopping.wait()
    print("\nStopping…", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    sys.exit(0)


def _origins(variable: str) -> tuple[str, ...]:
    """The Vite dev server's origins unless the environment names others."""
    raw = os.environ.get(variable)
    if raw is None:
        return DEV_ORIGINS
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
