"""Seed data for the local stack (never run in production): a superadmin, three mitras with
phones +6281100000001..3, and two packages. Idempotent, so a restarted stack keeps its data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.identity.passwords import hash_password

SUPERADMIN_EMAIL = "admin@halobestie.local"
MITRAS = (
    ("Bestie Ayu", "+6281100000001"),
    ("Bestie Bima", "+6281100000002"),
    ("Bestie Citra", "+6281100000003"),
)
PACKAGES = (
    ("1 sesi curhat", 1, 35_000, 1),
    ("5 sesi curhat", 5, 150_000, 2),
)


def seed(connection: Connection, admin_password: str) -> None:
    exists = connection.execute(
        sa.text("SELECT 1 FROM operators WHERE lower(email) = :email"),
        {"email": SUPERADMIN_EMAIL},
    ).first()
    if exists is None:
        connection.execute(
            sa.text(
                "INSERT INTO operators (email, password_hash, role)"
                " VALUES (:email, :hash, 'superadmin')"
            ),
            {"email": SUPERADMIN_EMAIL, "hash": hash_password(admin_password)},
        )
    for name, phone in MITRAS:
        connection.execute(
            sa.text(
                "INSERT INTO mitras (name, phone) VALUES (:name, :phone)"
                " ON CONFLICT (phone) DO NOTHING"
            ),
            {"name": name, "phone": phone},
        )
    if connection.execute(sa.text("SELECT count(*) FROM packages")).scalar_one() == 0:
        for name, sessions, price, order in PACKAGES:
            connection.execute(
                sa.text(
                    "INSERT INTO packages (name, sessions, price, sort_order)"
                    " VALUES (:name, :sessions, :price, :order)"
                ),
                {"name": name, "sessions": sessions, "price": price, "order": order},
            )
