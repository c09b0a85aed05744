"""Signing in to the owner page with a local account, CSRF, sign-out and expiry."""

from __future__ import annotations

import time

from tests.support.owner import PASSWORD, csrf_of, sign_in


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
