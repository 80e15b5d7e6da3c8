"""The database layer's one error family."""

from __future__ import annotations

from engine.errors import CarepathError


class StorageError(CarepathError):
    """The database could not do what was asked: unreachable, locked too long, schema missing."""


class SchemaOutOfDateError(StorageError):
    """The database schema is not at the version this carepath needs (run `carepath db upgrade`)."""
