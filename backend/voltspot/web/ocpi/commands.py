"""Commands module (we are the receiver): the immediate CommandResponse; the
CommandResult follows to the eMSP's response_url."""

from __future__ import annotations

from flask import Response, g

from voltspot.runtime import runtime
from voltspot.services.roaming import commands
from voltspot.web.ocpi import bp
from voltspot.web.ocpi.transport import authenticated, envelope, json_body


@bp.post("/2.2.1/commands/<command>", strict_slashes=False)
@authenticated()
def command(command: str) -> Response:
    answer = commands.receive_command(runtime().db, runtime().control, g.caller.partner_id,
                                      command, json_body())
    return envelope(answer.as_ocpi())
