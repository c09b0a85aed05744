"""The emails drivers' accounts send, worded in the driver's language: the receipt of a
settled session (plain text and HTML), written by the receipts job outside any request."""

from __future__ import annotations

from flask import Flask, render_template, url_for
from flask_babel import gettext as _

from voltspot.runtime import runtime
from voltspot.services.accounts.mail import Mail
from voltspot.services.accounts.receipts import DueReceipt
from voltspot.services.driver import live
from voltspot.web.driver_text import bill_line, plug_label
from voltspot.web.i18n import COOKIE, local_time, money, number


def _receipt_text(s: live.LiveSession, link: str) -> str:
    tz = s.site.terms.timezone if s.site.terms else "UTC"
    lines = [
        _("Thank you for charging with Voltspot. Your receipt:"),
        "",
        s.site.name,
        f"{plug_label(s.plug)} · {s.plug.evse_id}",
        f"{_('Started')}: {local_time(s.started_at, tz)}",
        f"{_('Stopped')}: {local_time(s.stopped_at, tz)}",
        f"{_('Energy')}: {number(s.energy_wh / 1000, 3)} kWh",
        "",
    ]
    if s.bill:
        lines += [f"{bill_line(line, s.currency, s.terms)}: {money(line.amount, s.currency)}"
                  for line in s.bill.lines]
        lines.append(f"{_('Total')}: {money(s.bill.total, s.currency)}")
        rate = number(s.bill.vat_rate_basis_points / 100, 0, 2)
        lines.append(f"{_('of which VAT (%(rate)s %%)', rate=rate)}: "
                     f"{money(s.bill.vat, s.currency)}")
    if s.hold_amount and s.amount_captured is not None:
        lines += ["",
                  f"{_('Held on your card')}: {money(s.hold_amount, s.currency)}",
                  f"{_('Taken')}: {money(s.amount_captured, s.currency)}",
                  f"{_('Released')}: {money(s.hold_amount - s.amount_captured, s.currency)}"]
    lines += ["", _("The receipt online, to print or share:"), link, ""]
    return "\n".join(lines)


def receipt_writer(app: Flask):
    """A function that words a :class:`DueReceipt` as its :class:`Mail`, in the driver's
    language, with the receipt's address on the public URL."""
    settings = runtime(app).settings

    def write(due: DueReceipt) -> Mail:
        with app.test_request_context("/", base_url=settings.public_url,
                                      headers={"Cookie": f"{COOKIE}={due.language}"}):
            session = live.live_session(runtime().db, due.token,
                                        settings.remote_start_timeout)
            link = url_for("driver.receipt", token=due.token, _external=True)
            subject = _("Your Voltspot receipt: %(site)s, %(total)s", site=session.site.name,
                        total=money(session.bill.total if session.bill else 0,
                                    session.currency))
            html = render_template("driver/account/receipt_email.html", live=session,
                                   link=link)
            return Mail(to=due.email, subject=subject, text=_receipt_text(session, link),
                        html=html)

    return write
