"""The charging session's state machine: which moves of a session and of its payment are
allowed, every pair checked against one table written out here."""

from __future__ import annotations

import itertools

import pytest

from voltspot.domain.sessions import (
    ForbiddenTransition,
    can_fail,
    check_payment,
    check_status,
)
from voltspot.domain.statuses import PaymentState, SessionStatus

S = SessionStatus
P = PaymentState

# Every allowed move, written out independently of the module's table.
ALLOWED_MOVES = {
    (None, S.CREATED), (None, S.STARTING), (None, S.CHARGING),
    (S.CREATED, S.AUTHORISED), (S.CREATED, S.FAILED),
    (S.AUTHORISED, S.STARTING), (S.AUTHORISED, S.CHARGING), (S.AUTHORISED, S.FAILED),
    (S.STARTING, S.STARTING), (S.STARTING, S.CHARGING), (S.STARTING, S.SUSPENDED),
    (S.STARTING, S.FINISHING), (S.STARTING, S.COMPLETED), (S.STARTING, S.FAILED),
    *((running, after) for running in (S.CHARGING, S.SUSPENDED, S.FINISHING)
      for after in (S.CHARGING, S.SUSPENDED, S.FINISHING, S.COMPLETED)),
}

ALLOWED_PAYMENTS = {
    (None, P.NONE), (None, P.AUTHORISING),
    (P.AUTHORISING, P.HELD), (P.AUTHORISING, P.FAILED), (P.AUTHORISING, P.TO_RELEASE),
    (P.HELD, P.TO_SETTLE), (P.HELD, P.TO_RELEASE),
    (P.TO_SETTLE, P.CAPTURED), (P.TO_SETTLE, P.RELEASED),
    (P.TO_RELEASE, P.RELEASED),
}


@pytest.mark.parametrize(("before", "after"),
                         list(itertools.product([None, *SessionStatus], SessionStatus)))
def test_a_session_moves_only_as_the_table_allows(before, after):
    if (before, after) in ALLOWED_MOVES:
        assert check_status(before, after) == after
    else:
        with pytest.raises(ForbiddenTransition):
            check_status(before, after)


@pytest.mark.parametrize(("before", "after"),
                         list(itertools.product([None, *PaymentState], PaymentState)))
def test_a_payment_moves_only_as_the_table_allows(before, after):
    if (before, after) in ALLOWED_PAYMENTS:
        assert check_payment(before, after) == after
    else:
        with pytest.raises(ForbiddenTransition):
            check_payment(before, after)


@pytest.mark.parametrize("status", list(SessionStatus))
def test_only_a_session_that_has_not_charged_can_fail(status):
    assert can_fail(status) == (status in {S.CREATED, S.AUTHORISED, S.STARTING})

