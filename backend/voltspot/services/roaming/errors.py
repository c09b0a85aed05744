"""What goes wrong in OCPI, with the status code and HTTP status the spec gives it."""

from __future__ import annotations

from voltspot.services.errors import ServiceError


class OcpiError(ServiceError):
    """An OCPI failure: ``status_code`` is the OCPI status (2xxx client error, 3xxx
    server error), ``http_status`` the HTTP status to answer with."""

    status_code = 2000
    http_status = 400


class Unauthorized(OcpiError):
    """No token, an unknown token, or a token not valid for this call."""

    http_status = 401


class MethodNotAllowed(OcpiError):
    """The credentials call does not fit the registration's state (the spec's 405)."""

    http_status = 405


class InvalidParameters(OcpiError):
    status_code = 2001


class UnknownLocation(OcpiError):
    status_code = 2003
    http_status = 404


class UnknownToken(OcpiError):
    status_code = 2004
    http_status = 404


class UnknownObject(OcpiError):
    """An unknown session, CDR or tariff (no status of its own in the spec)."""

    http_status = 404


class PartnerUnreachable(OcpiError):
    """Calling the partner failed: no connection, a timeout, or not an OCPI answer."""

    status_code = 3001
    http_status = 502
