"""Typed SQLAlchemy 2.0 models; importing this package registers every table."""

from voltspot.models.base import Base, utcnow
from voltspot.models.charging import (
    ChargingSession,
    IdToken,
    MeterSample,
    OcppFrame,
    TransactionEvent,
)
from voltspot.models.events import StationEvent, StationEventKind
from voltspot.models.load import (
    LoadCircuit,
    PlugLoad,
    SiteLoadSample,
    SiteLoadSettings,
    SiteMeterReading,
    StationLoadSettings,
)
from voltspot.models.owners import Owner
from voltspot.models.rollups import NetworkHourTotal, SiteHourTotal
from voltspot.models.sites import Connector, Site, Station
from voltspot.models.tariffs import Tariff
from voltspot.models.webhooks import WebhookEvent

__all__ = [
    "Base",
    "ChargingSession",
    "Connector",
    "IdToken",
    "LoadCircuit",
    "MeterSample",
    "NetworkHourTotal",
    "OcppFrame",
    "Owner",
    "PlugLoad",
    "Site",
    "SiteHourTotal",
    "SiteLoadSample",
    "SiteLoadSettings",
    "SiteMeterReading",
    "Station",
    "StationEvent",
    "StationEventKind",
    "StationLoadSettings",
    "Tariff",
    "TransactionEvent",
    "WebhookEvent",
    "utcnow",
]
