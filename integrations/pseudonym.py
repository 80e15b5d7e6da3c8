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
_MIN_SECRET_BYTES = 16  # what `pseudonym` accepts: an older or hand-made key may be shorter than 32


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
    """The secret in `data_dir/pseudonym.key`, created (mode 0600) the first time it is needed.

    The new file is on disk before it is used (the file and its directory flushed), as every
    commit of the cases whose pseudonyms it makes is: after a power cut the installation finds the
    same secret, not an empty file or none (a new secret would link no client to their earlier
    cases). A file that is not a secret of the right length is refused, by name."""
    path = data_dir / SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(_SECRET_BYTES)
    # Write a private temporary file, then link it into place: a second process either wins the
    # link or reads a complete file, never a half-written one.
    temporary = data_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        return _read_secret(path)
    finally:
        temporary.unlink()
    _flush_directory(data_dir)
    return secret


def _read_secret(path: Path) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise StorageError(f"de pseudoniemsleutel {path} is geen hexadecimale tekst; herstel het bestand uit de "
                           f"back-up (een nieuwe sleutel koppelt geen cliënt meer aan eerdere zaken)") from None
    if len(secret) < _MIN_SECRET_BYTES:
        raise StorageError(f"de pseudoniemsleutel {path} is te kort ({len(secret)} bytes, minstens "
                           f"{_MIN_SECRET_BYTES}); herstel het bestand uit de back-up (een nieuwe sleutel koppelt "
                           f"geen cliënt meer aan eerdere zaken)")
    return secret


def _flush_directory(directory: Path) -> None:
    """The directory's entries on disk (the new file's name), where the system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # a system without directory handles (Windows): the file itself was flushed
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the file itself was flushed
    finally:
        os.close(fd)


class Pseudonymiser:
    """Pseudonyms with one installation's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Pseudonymiser:
        return cls(load_or_create_secret(data_dir))

    def __call__(self, client_id: str | None) -> str:
        return unlinked_pseudonym() if client_id is None else pseudonym(client_id, self._secret)
