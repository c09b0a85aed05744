"""Drivers' account use cases against the real database: what is no longer needed to sign
anyone in is deleted, and a sign-in link's account is made on its first use only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.server import free_port
from tests.support.smtp_server import body, smtp_server
from voltspot.models import DriverAccount, DriverSignIn, DriverSignInLink, utcnow
from voltspot.services.accounts import signin
from voltspot.services.accounts.mail import Mail, MailUnavailable, SmtpMailer


def _email() -> str:
    return f"svc-{uuid.uuid4().hex[:10]}@example.org"


def _link(db, email: str) -> str:
    """Ask for a sign-in link for ``email`` (mailed through a real SMTP server); its
    token, as the mail carries it."""
    with smtp_server() as inbox:
        mailer = SmtpMailer(inbox.host, inbox.port, "Voltspot <charge@example.org>")
        signin.send_sign_in_link(
            db, mailer, email, minutes=15, link_for=lambda token: f"token={token}",
            write=lambda to, link: Mail(to=to, subject="Sign in", text=link))
        return body(inbox.wait_for(email)[0]).strip().removeprefix("token=")


def test_asking_for_a_link_makes_no_account(db):
    email = _email()
    _link(db, email)
    with db.session() as session:
        assert session.scalar(select(DriverAccount).where(DriverAccount.email == email)) is None


def test_browsers_unused_longer_than_the_lifetime_are_forgotten(db):
    old_email, new_email = _email(), _email()
    old, _ = signin.follow_link(db, _link(db, old_email), language="en")
    fresh, _ = signin.follow_link(db, _link(db, new_email), language="en")
    with db.session() as session:
        session.get(DriverSignIn, signin.digest(old)).last_seen_at = utcnow() - timedelta(
            days=31)
    assert signin.forget_stale(db, lifetime=timedelta(days=30)) >= 1
    lifetime = timedelta(days=3650)
    assert signin.signed_in_account(db, old, lifetime=lifetime) is None
    assert signin.signed_in_account(db, fresh, lifetime=lifetime).email == new_email


def test_links_expired_over_a_day_ago_are_deleted_and_newer_ones_kept(db):
    email = _email()
    expired, recent = _link(db, email), _link(db, email)
    with db.session() as session:
        session.get(DriverSignInLink, signin.digest(expired)).expires_at = \
            utcnow() - timedelta(days=2)
    signin.forget_stale(db, lifetime=timedelta(days=30))
    with db.session() as session:
        assert session.get(DriverSignInLink, signin.digest(expired)) is None
        assert session.get(DriverSignInLink, signin.digest(recent)) is not None


def test_a_mail_server_that_cannot_be_reached_is_reported(db):
    mailer = SmtpMailer("127.0.0.1", free_port(), "Voltspot <charge@example.org>", timeout=2)
    with pytest.raises(MailUnavailable):
        signin.send_sign_in_link(db, mailer, _email(), minutes=15, link_for=str,
                                 write=lambda to, link: Mail(to=to, subject="s", text=link))
