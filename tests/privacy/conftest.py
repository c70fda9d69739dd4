"""The privacy tests use the control-center operators of tests/admin."""

from tests.admin.conftest import admin, make_operator, root, viewer  # noqa: F401
