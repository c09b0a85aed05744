"""Errors services raise for the edge to translate (HTTP status, OCPP CallError, CLI line)."""


class ServiceError(Exception):
    """Base: the message is written for the person who will read it."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class InvalidInput(ServiceError):
    pass
