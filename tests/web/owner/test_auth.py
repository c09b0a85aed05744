"""Signing in to the owner page with a local account, CSRF, sign-out and expiry."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

from sqlalchemy import select

from tests.support.owner import PASSWORD, csrf_of, sign_in
from voltspot.domain.throttle import FailureThrottle
from voltspot.models import OwnerSignIn, utcnow
from voltspot.web.security import throttles


def test_an_owner_page_sends_a_stranger_to_sign_in(app):
    response = app.test_client().get("/owner/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/owner/login")


def test_an_owner_signs_in_with_email_and_password_and_sees_the_board(app, owner):
    client = sign_in(app.test_client(), owner)
    page = client.get("/owner/").get_data(as_text=True)
    assert "Live board" in page and "Stations online" in page


def test_a_wrong_password_is_refused_with_a_clear_message(app, owner):
    client = app.test_client()
    response = client.post("/owner/login", data={
        "email": owner.email, "password": "wrong-password-123", "csrf_token": csrf_of(client)})
    assert response.status_code == 401
    assert "do not match an owner account" in response.get_data(as_text=True)


def test_a_form_without_the_csrf_token_is_refused(app, owner):
    response = app.test_client().post("/owner/login", data={
        "email": owner.email, "password": PASSWORD})
    assert response.status_code == 400


def test_signing_out_ends_the_session(signed_in):
    signed_in.post("/owner/logout", data={"csrf_token": csrf_of(signed_in)})
    assert signed_in.get("/owner/").status_code == 302


def test_a_signed_in_session_expires(app, owner):
    client = sign_in(app.test_client(), owner)
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - 13 * 3600
    assert client.get("/owner/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site(app, owner):
    client = app.test_client()
    response = client.post("/owner/login", data={
        "email": owner.email, "password": PASSWORD, "csrf_token": csrf_of(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_cookie_copied_before_signing_out_is_refused_after_it(app, owner):
    client = sign_in(app.test_client(), owner)
    copied = client.get_cookie("session").value
    client.post("/owner/logout", data={"csrf_token": csrf_of(client)})
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert replay.get("/owner/").status_code == 302


def test_an_owner_left_idle_longer_than_the_timeout_is_signed_out(app, owner, db):
    client = sign_in(app.test_client(), owner)
    assert client.get("/owner/").status_code == 200
    with db.session() as session:
        for row in session.scalars(select(OwnerSignIn).where(
                OwnerSignIn.owner_id == owner.id)):
            row.last_seen_at = utcnow() - timedelta(minutes=61)
    assert client.get("/owner/").status_code == 302


def test_an_active_owner_stays_signed_in_past_the_idle_timeout(app, owner, db):
    client = sign_in(app.test_client(), owner)
    with db.session() as session:
        for row in session.scalars(select(OwnerSignIn).where(
                OwnerSignIn.owner_id == owner.id)):
            row.last_seen_at = utcnow() - timedelta(minutes=59)
    assert client.get("/owner/").status_code == 200
    with db.session() as session:
        [row] = session.scalars(select(OwnerSignIn).where(OwnerSignIn.owner_id == owner.id))
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def _try(client, email: str, password: str = "wrong-password-123"):
    return client.post("/owner/login", data={
        "email": email, "password": password, "csrf_token": csrf_of(client)})


def test_repeated_wrong_passwords_for_one_account_get_429_with_a_retry_after(app, owner):
    # Waits long enough that a slow machine's requests still fall inside them (the growth
    # of the waits is tested with the throttle itself).
    throttles(app).sign_in_account = FailureThrottle(free=5, base_seconds=60)
    answers = [_try(app.test_client(), owner.email) for _ in range(7)]
    assert [a.status_code for a in answers] == [401] * 6 + [429]
    blocked = answers[-1]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Even the right password waits until the delay is over.
    assert _try(app.test_client(), owner.email, PASSWORD).status_code == 429


def test_one_address_trying_many_accounts_gets_429(app):
    throttles(app).sign_in_address = FailureThrottle(free=20, base_seconds=60)
    client = app.test_client()
    answers = [_try(client, f"nobody-{n}@example.org").status_code for n in range(22)]
    assert answers == [401] * 21 + [429]


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer_in_similar_time(
        app, owner):
    def timed(email: str) -> tuple[float, str]:
        client = app.test_client()
        token = csrf_of(client)
        started = time.perf_counter()
        response = client.post("/owner/login", data={
            "email": email, "password": "wrong-password-123", "csrf_token": token})
        elapsed = time.perf_counter() - started
        body = response.get_data(as_text=True).replace(email, "EMAIL").replace(token, "TOKEN")
        return elapsed, re.sub(r'nonce="[^"]+"', "", body)

    throttles(app).sign_in_account = FailureThrottle(free=100)
    timed(owner.email)
    unknown, wrong = [], []
    for n in range(6):  # interleaved, so both see the same load on a busy machine
        unknown.append(timed(f"nobody-{n}@example.org"))
        wrong.append(timed(owner.email))
    assert unknown[0][1] == wrong[0][1]
    ratio = statistics.median(t for t, _ in unknown) / statistics.median(t for t, _ in wrong)
    assert 0.5 < ratio < 2
