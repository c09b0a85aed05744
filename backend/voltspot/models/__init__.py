"""Typed SQLAlchemy 2.0 models; importing this package registers every table."""

from voltspot.models.accounts import (
    DriverAccount,
    DriverAccountSession,
    DriverPasskey,
    DriverSignIn,
    DriverSignInLink,
    FavouriteSite,
    ReceiptEmail,
)
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
from voltspot.models.owner_product import OutageExclusion, ProblemReport, StickerPrint
from voltspot.models.owners import Owner, OwnerSignIn
from voltspot.models.push import PushKeys, PushNotice, PushSubscription
from voltspot.models.roaming import (
    OcpiCdr,
    OcpiOutbox,
    OcpiPartner,
    OcpiPublished,
    OcpiSession,
    OcpiToken,
)
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
    "OcpiCdr",
    "OcpiOutbox",
    "OcpiPartner",
    "OcpiPublished",
    "OcpiSession",
    "OcpiToken",
    "OcppFrame",
    "OutageExclusion",
    "Owner",
    "OwnerSignIn",
    "PlugLoad",
    "ProblemReport",
    "PushKeys",
    "PushNotice",
    "PushSubscription",
    "Site",
    "SiteHourTotal",
    "SiteLoadSample",
    "SiteLoadSettings",
    "SiteMeterReading",
    "Station",
    "StationEvent",
    "StationEventKind",
    "StationLoadSettings",
    "StickerPrint",
    "Tariff",
    "TransactionEvent",
    "WebhookEvent",
    "DriverAccount",
    "DriverAccountSession",
    "DriverPasskey",
    "DriverSignIn",
    "DriverSignInLink",
    "FavouriteSite",
    "ReceiptEmail",
    "utcnow",
]
