"""Halo Bestie's shared package: configuration, storage, identity, HTTP layer and domain logic
that every function in functions/ imports."""
