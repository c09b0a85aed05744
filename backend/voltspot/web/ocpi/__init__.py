"""OCPI 2.2.1 under ``/ocpi`` (Voltspot as CPO): one blueprint, its views split by module
into the modules of this package, each translating a request into one call on
:mod:`voltspot.services.roaming` and its answer into the OCPI envelope."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ocpi", __name__, url_prefix="/ocpi")


def _register_views() -> None:
    # Each module of this package adds its views to ``bp`` when imported.
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_register_views()
