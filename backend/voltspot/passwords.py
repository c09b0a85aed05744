"""Password hashing, in one place: the stored format (werkzeug's salted scrypt) is an
infrastructure choice the services should not know about.

Hashes are deliberately slow (tenths of a second of CPU). Under ``voltspot serve`` every
socket and page of a worker shares one gevent loop, so a hash computed on it stalls them
all (measured: four clients guessing owner passwords pushed ``/healthz`` from 3 ms to
2.5 s). Hashing therefore runs on gevent's thread pool when gevent has patched the process
(hashlib's scrypt releases the GIL, so the loop keeps serving), and in the caller's thread
otherwise (tests, the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from werkzeug.security import check_password_hash, generate_password_hash

T = TypeVar("T")


def off_loop(work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on gevent's thread pool when gevent has patched this process, else
    right here; returns its result or raises its exception."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return work(*args)
    from gevent.hub import get_hub

    return get_hub().threadpool.apply(work, args)


def hash_password(password: str) -> str:
    """A salted hash of ``password`` to store; never the password itself (computed off
    the event loop)."""
    return off_loop(generate_password_hash, password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored_hash`` was made from (constant time,
    checked off the event loop)."""
    return off_loop(check_password_hash, stored_hash, password)
