"""Password hashing that never stalls the event loop.

Hashes are deliberately slow (werkzeug's scrypt: tenths of a second of CPU). Under
``voltspot serve`` every socket and page of a worker shares one gevent loop, so a hash
computed on it stalls them all: four clients guessing owner passwords pushed ``/healthz``
from 3 ms to 2.5 s. Hashing therefore runs on gevent's thread pool when gevent has
patched the process (hashlib's scrypt releases the GIL, so the loop keeps serving), and
in the caller's thread otherwise.

A successful check is remembered, so a reconnect storm of thousands of chargers does not
redo the work for a password already checked against the same stored hash. The memory
holds an HMAC of the password under a key that lives only in this process, never the
password; failures are not remembered (a guess always costs a full hash).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from werkzeug.security import check_password_hash, generate_password_hash

T = TypeVar("T")

REMEMBERED_CHECKS = 65536

_process_key = secrets.token_bytes(32)
_remembered: OrderedDict[tuple[str, bytes], None] = OrderedDict()
_remembered_lock = threading.Lock()


def off_loop(work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on gevent's thread pool when gevent has patched this process,
    else right here; returns its result or raises its exception."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return work(*args)
    from gevent.hub import get_hub

    return get_hub().threadpool.apply(work, args)


def hash_password(password: str) -> str:
    """A strong hash of ``password`` to store (computed off the event loop)."""
    return off_loop(generate_password_hash, password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (checked off the event loop, a
    success remembered; see the module docstring)."""
    key = (password_hash, hmac.new(_process_key, password.encode(), hashlib.sha256).digest())
    with _remembered_lock:
        if key in _remembered:
            _remembered.move_to_end(key)
            return True
    if not off_loop(check_password_hash, password_hash, password):
        return False
    with _remembered_lock:
        _remembered[key] = None
        if len(_remembered) > REMEMBERED_CHECKS:
            _remembered.popitem(last=False)
    return True
