"""Credentials module: a partner registers (POST), renews its token (PUT), reads ours
(GET) or unregisters (DELETE)."""

from __future__ import annotations

from flask import Response, g, request

from voltspot.runtime import runtime
from voltspot.services.roaming import partners
from voltspot.web.ocpi import bp
from voltspot.web.ocpi.transport import authenticated, envelope, identity, json_body


@bp.get("/2.2.1/credentials", strict_slashes=False)
@authenticated()
def get_credentials() -> Response:
    return envelope(partners.our_credentials(identity(), g.caller).data)


@bp.route("/2.2.1/credentials", methods=["POST", "PUT", "DELETE"], strict_slashes=False)
@authenticated(registration=True)
def change_credentials() -> Response:
    body = None if request.method == "DELETE" else json_body()
    answer = partners.receive_credentials(runtime().db, identity(), g.caller, request.method,
                                          body)
    return envelope(answer.data if answer else None)
