"""The HTTP layer every function shares: route tables, typed bodies, the contract's error
shape, request ids, and OpenAPI generated from the same route tables."""

from shared.web.api import Api, Call, Reply

__all__ = ["Api", "Call", "Reply"]
