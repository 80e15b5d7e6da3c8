"""Pseudonyms: link a client's cases without storing who the client is.

The pseudonym is HMAC-SHA256 over the normalised client identifier (a BSN or
a partner's client number) with a secret that belongs to this installation
and lives only in its data directory (`pseudonym.key`, mode 0600). Without the
secret nobody can test a guessed BSN against the stored pseudonyms; with it,
the same client always gets the same pseudonym, so repeated signals show up
in statistics while the database never holds the identifier itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from engine.errors import ValidationError
from integrations.db.errors import StorageError

SECRET_FILE = "pseudonym.key"
_SECRET_BYTES = 32


def normalise_identifier(client_id: str) -> str:
    """Spaces, dots and dashes do not make another client: `1234.56.789` is `123456789`."""
    cleaned = "".join(ch for ch in client_id if ch not in " .-\t").casefold()
    if not cleaned:
        raise ValidationError("a client identifier must not be empty")
    return cleaned


def pseudonym(client_id: str, secret: bytes) -> str:
    """The installation's pseudonym of `client_id` (64 hex characters)."""
    if len(secret) < 16:
        raise ValidationError("the pseudonym secret is too short (at least 16 bytes)")
    return hmac.new(secret, normalise_identifier(client_id).encode("utf-8"), hashlib.sha256).hexdigest()


def unlinked_pseudonym() -> str:
    """A pseudonym for a case without a client identifier: random, so it links to nothing."""
    return "u" + secrets.token_hex(31)


def load_or_create_secret(data_dir: Path) -> bytes:
    """The secret in `data_dir/pseudonym.key`, created (mode 0600) the first time it is needed."""
    path = data_dir / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError as exc:
        raise StorageError(f"pseudonym secret {path} is not hex text: {exc}") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(_SECRET_BYTES)
    # Write a private temporary file, then link it into place: a second process either wins the
    # link or reads a complete file, never a half-written one.
    temporary = data_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    finally:
        temporary.unlink()
    return secret


class Pseudonymiser:
    """Pseudonyms with one installation's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Pseudonymiser:
        return cls(load_or_create_secret(data_dir))

    def __call__(self, client_id: str | None) -> str:
        return unlinked_pseudonym() if client_id is None else pseudonym(client_id, self._secret)
