"""Sealing the org's Salesforce secrets before they reach the database.

The client secret, password, security token and private key are stored as one
Fernet token (AES-128-CBC + HMAC-SHA256) whose key is derived from the
installation's SECRET_KEY, which lives in the instance folder, not in the
database: a copied database or backup alone does not give away the org's
Salesforce access. Changing SECRET_KEY makes stored secrets unreadable; the
worker then reports ``CREDENTIALS_UNREADABLE`` and the admin configures again."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_NAMES = ("client_secret", "password", "security_token", "private_key")


class UnreadableSecrets(Exception):
    """The sealed secrets were made with another SECRET_KEY (or are corrupt)."""


def _fernet(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"engage salesforce secrets v1").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def seal(secret_key: str, secrets: dict[str, str]) -> str | None:
    kept = {k: v for k, v in secrets.items() if k in SECRET_NAMES and v}
    if not kept:
        return None
    return _fernet(secret_key).encrypt(json.dumps(kept).encode()).decode()


def unseal(secret_key: str, sealed: str | None) -> dict[str, str]:
    if not sealed:
        return {}
    try:
        return json.loads(_fernet(secret_key).decrypt(sealed.encode()))
    except (InvalidToken, ValueError) as err:
        raise UnreadableSecrets("stored Salesforce secrets cannot be decrypted with this SECRET_KEY") from err
