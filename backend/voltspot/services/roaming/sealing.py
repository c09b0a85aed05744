"""The partners' own tokens at rest: we must send them on every call, so they cannot be
hashed; they are encrypted (Fernet) with a key derived from ``VOLTSPOT_SECRET_KEY``, so a
copy of the database alone does not let anyone call a partner as us. Changing the secret
key makes stored partner tokens unreadable: partners then register again."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from voltspot.services.roaming.errors import OcpiError


class UnreadableToken(OcpiError):
    status_code = 3000
    http_status = 500


def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(b"voltspot-ocpi-partner-token:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, token: str) -> str:
    """``token`` encrypted for storage."""
    return _fernet(secret).encrypt(token.encode()).decode()


def unseal(secret: str, sealed: str) -> str:
    """A stored token in the clear. Raises :class:`UnreadableToken` when it was sealed
    with another secret key."""
    try:
        return _fernet(secret).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise UnreadableToken("a partner's token was stored under another secret key; "
                              "register with the partner again") from None
