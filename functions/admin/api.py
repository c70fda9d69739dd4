"""The admin function's one route table. The routes register on it from
functions/admin/routes/, one module per resource; functions/admin/main.py serves it."""

from shared.web import Api

api = Api("admin", title="Halo Bestie control center", audience="admin")
