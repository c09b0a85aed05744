"""The admin's sign-in requests screen in a real browser: no policy violation (the page
fixture fails on any), no serious accessibility finding, thumb-sized buttons, and letting
someone in from it."""

from __future__ import annotations

import uuid

from tests.factories import make_owner
from tests.support.browser import axe_check, screenshot, touch_targets_ok
from tests.support.owner import PASSWORD
from voltspot.services.owner import signin

WAIT_MS = 10_000


def test_an_admin_lets_someone_in_from_the_sign_in_requests_screen(desktop, server, db):
    admin = make_owner(db, admin=True)
    subject = f"sub-{uuid.uuid4().hex[:8]}"
    email = f"{subject}@elsewhere.example"
    signin.sign_in_with_oidc(db, "https://id.example", subject, email, "Wanda Waiting")
    desktop.goto(server.base_url + "/owner/login")
    desktop.fill("#email", admin.email)
    desktop.fill("#password", PASSWORD)
    desktop.get_by_role("button", name="Sign in").click()
    desktop.wait_for_url("**/owner/", timeout=WAIT_MS)
    desktop.get_by_role("link", name="Sign-in requests").click()
    desktop.wait_for_url("**/owner/sign-in-requests", timeout=WAIT_MS)
    row = desktop.get_by_role("row").filter(has_text=email)
    assert row.count() == 1
    axe_check(desktop)
    touch_targets_ok(desktop)
    screenshot(desktop, "owner-sign-in-requests")
    row.get_by_role("button", name=f"Let in {email}").click()
    desktop.get_by_text(f"{email} may sign in now.").wait_for(timeout=WAIT_MS)
    assert desktop.get_by_role("row").filter(has_text=email).count() == 0
    assert signin.sign_in_with_oidc(db, "https://id.example", subject, email,
                                    None).owner_id is not None
