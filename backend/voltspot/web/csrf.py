"""CSRF protection for signed-in pages: a per-session token that every form posts and every
htmx request sends in the ``X-CSRFToken`` header (set once on <body> via hx-headers)."""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

SESSION_KEY = "csrf_token"
HEADER = "X-CSRFToken"
FIELD = "csrf_token"


def csrf_token() -> str:
    """The session's token, created on first use (a Jinja global)."""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def protect() -> None:
    """Abort with 400 unless an unsafe request carries the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(SESSION_KEY)
    given = request.headers.get(HEADER) or request.form.get(FIELD, "")
    if not expected or not hmac.compare_digest(expected, given):
        abort(400, description="This form has expired. Reload the page and try again.")
