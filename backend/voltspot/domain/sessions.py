"""The life of a charging session: its states, its payment's states, and which moves
between them are allowed. One table each; :mod:`voltspot.services.charging.lifecycle`
is the only place that applies them.

A session begins as ``created`` (a driver's, before its card hold), ``starting`` (an
operator's remote start, or a 2.0.1 transaction that began at plug-in before anyone was
authorised) or ``charging`` (a transaction a charger started for a card). Until it
charges it may fail; once a transaction runs it follows the plug (charging, suspended,
finishing, in any order, the same state reported again included) until it completes.
``completed`` and ``failed`` are final.
"""

from __future__ import annotations

from voltspot.domain.statuses import PaymentState, SessionStatus

S = SessionStatus
P = PaymentState


class ForbiddenTransition(ValueError):
    """A move the session's state machine does not allow: a bug, not a user's mistake."""


# The states a session may be created in.
INITIAL_STATUSES = frozenset({S.CREATED, S.STARTING, S.CHARGING})

# status → the statuses it may move to.
SESSION_TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    # A driver's session waits for its card hold.
    S.CREATED: frozenset({S.AUTHORISED, S.FAILED}),
    # The hold is there; the charger is asked next, though its transaction may come
    # first (a card or a 2.0.1 event that names the session).
    S.AUTHORISED: frozenset({S.STARTING, S.CHARGING, S.FAILED}),
    # Asked, or plugged in before authorisation. The transaction's events may repeat
    # "starting", report the plug's state before the authorisation, or end it unpaid.
    S.STARTING: frozenset({S.STARTING, S.CHARGING, S.SUSPENDED, S.FINISHING, S.COMPLETED,
                           S.FAILED}),
    S.CHARGING: frozenset({S.CHARGING, S.SUSPENDED, S.FINISHING, S.COMPLETED}),
    S.SUSPENDED: frozenset({S.CHARGING, S.SUSPENDED, S.FINISHING, S.COMPLETED}),
    S.FINISHING: frozenset({S.CHARGING, S.SUSPENDED, S.FINISHING, S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
}

# The payment states a session may be created in: no payment, or a hold being asked for.
INITIAL_PAYMENT_STATES = frozenset({P.NONE, P.AUTHORISING})

# payment state → the payment states it may move to. ``to_settle`` and ``to_release``
# record an intent before the provider is called (see DESIGN.md).
PAYMENT_TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    P.NONE: frozenset(),
    # The provider refused the hold or the driver never completed it (failed), the hold
    # is there (held), or the session ended before anyone knew (release what may exist).
    P.AUTHORISING: frozenset({P.HELD, P.FAILED, P.TO_RELEASE}),
    # The session ended: take what it cost; or it never charged: give it all back.
    P.HELD: frozenset({P.TO_SETTLE, P.TO_RELEASE}),
    # A session that cost nothing is released rather than captured for 0.
    P.TO_SETTLE: frozenset({P.CAPTURED, P.RELEASED}),
    P.TO_RELEASE: frozenset({P.RELEASED}),
    P.CAPTURED: frozenset(),
    P.RELEASED: frozenset(),
    P.FAILED: frozenset(),
}


def check_status(current: SessionStatus | None, target: SessionStatus) -> SessionStatus:
    """``target`` when a session in ``current`` (None: a new session) may move there;
    raises :class:`ForbiddenTransition` otherwise."""
    allowed = INITIAL_STATUSES if current is None else SESSION_TRANSITIONS[S(current)]
    if target not in allowed:
        raise ForbiddenTransition(f"a session cannot go from {current or 'nothing'} to "
                                  f"{target}")
    return target


def check_payment(current: PaymentState | None, target: PaymentState) -> PaymentState:
    """``target`` when a payment in ``current`` (None: a new session) may move there;
    raises :class:`ForbiddenTransition` otherwise."""
    allowed = INITIAL_PAYMENT_STATES if current is None else PAYMENT_TRANSITIONS[P(current)]
    if target not in allowed:
        raise ForbiddenTransition(f"a payment cannot go from {current or 'nothing'} to "
                                  f"{target}")
    return target


def can_fail(status: SessionStatus) -> bool:
    """Whether a session in ``status`` has not charged yet and so may still fail."""
    return S.FAILED in SESSION_TRANSITIONS[S(status)]
