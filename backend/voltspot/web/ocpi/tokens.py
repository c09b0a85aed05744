"""Tokens module (we are the receiver): eMSPs push their tokens and read them back."""

from __future__ import annotations

from flask import Response, g, request

from voltspot.runtime import runtime
from voltspot.services.roaming import tokens
from voltspot.web.ocpi import bp
from voltspot.web.ocpi.transport import authenticated, envelope, json_body

_TOKEN_URL = "/2.2.1/tokens/<country_code>/<party_id>/<token_uid>"


@bp.get(_TOKEN_URL, strict_slashes=False)
@authenticated()
def get_token(country_code: str, party_id: str, token_uid: str) -> Response:
    return envelope(tokens.get_token(runtime().db, g.caller.partner_id, country_code,
                                     party_id, token_uid, request.args.get("type", "RFID")))


@bp.put(_TOKEN_URL, strict_slashes=False)
@authenticated()
def put_token(country_code: str, party_id: str, token_uid: str) -> Response:
    tokens.put_token(runtime().db, g.caller.partner_id, country_code, party_id, token_uid,
                     request.args.get("type", "RFID"), json_body())
    return envelope()


@bp.patch(_TOKEN_URL, strict_slashes=False)
@authenticated()
def patch_token(country_code: str, party_id: str, token_uid: str) -> Response:
    tokens.patch_token(runtime().db, g.caller.partner_id, country_code, party_id, token_uid,
                       request.args.get("type", "RFID"), json_body())
    return envelope()
