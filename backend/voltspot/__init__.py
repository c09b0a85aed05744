"""Voltspot: an open-source EV charging platform (OCPP CSMS, driver PWA, owner page)."""

__version__ = "0.1.0"
