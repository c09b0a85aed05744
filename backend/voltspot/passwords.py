"""Password hashing, in one place: the stored format (werkzeug's salted scrypt) is an
infrastructure choice the services should not know about."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str) -> str:
    """A salted hash of ``password`` to store; never the password itself."""
    return generate_password_hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored_hash`` was made from (constant time)."""
    return check_password_hash(stored_hash, password)
