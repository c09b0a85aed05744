"""A plug's settings as its owner edits them: type, cable, most power and EVSE id.

Lookups go through :mod:`voltspot.services.owner.accounts` (another owner's plug raises
:class:`NotFound`); each function opens and commits its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.evse_ids import EvseIdError, normalise_evse_id
from voltspot.domain.statuses import ConnectorType
from voltspot.models import Connector
from voltspot.services import forms
from voltspot.services.forms import FormInvalid
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_connector

MAX_POWER_KW = 1000
POWER_ERROR = N_("Write the most power one plug gives, in kW, between 0 and %(most)s, such "
                 "as 22 or 7.4.", most=MAX_POWER_KW)


# The "cable" field: a socket the driver brings a cable for, or a cable fixed to the charger.
CABLE_SOCKET = "socket"
CABLE_TETHERED = "tethered"


@dataclass(frozen=True)
class PlugEdit:
    """A plug's edit form: which plug, and the text its fields start with."""

    pk: int
    number: int
    charge_point_id: str
    values: dict[str, str]


def _plug_edit(connector: Connector, form: Mapping[str, str] | None = None) -> PlugEdit:
    values = {"connector_type": str(connector.connector_type),
              "max_power_kw": f"{connector.max_power_w / 1000:g}",
              "evse_id": connector.evse_id or "",
              "cable": CABLE_TETHERED if connector.tethered else CABLE_SOCKET}
    if form is not None:
        values = {name: str(form.get(name, "")) for name in values}
    return PlugEdit(connector.id, connector.connector_id, connector.station.charge_point_id,
                    values)


def plug_for_edit(db: Database, viewer: Viewer, connector_pk: int,
                  form: Mapping[str, str] | None = None) -> PlugEdit:
    """One of the viewer's plugs with its form's text (``form`` as typed, when given).
    Raises :class:`NotFound`."""
    with db.session() as session:
        return _plug_edit(owned_connector(session, viewer, connector_pk), form)


def check_evse_id_free(session: Session, evse_id: str, connector_pk: int) -> None:
    """Raise :class:`FormInvalid` (field ``evse_id``) when another plug has ``evse_id``."""
    if session.scalar(select(Connector.id).where(Connector.evse_id == evse_id,
                                                 Connector.id != connector_pk)) is not None:
        raise FormInvalid({"evse_id": _taken(evse_id)})


def _taken(evse_id: str) -> str:
    return N_("%(evse)s is already used by another plug. Each plug needs its own EVSE id.",
              evse=evse_id)


def update_plug(db: Database, viewer: Viewer, connector_pk: int, form: Mapping[str, str]
                ) -> PlugEdit:
    """Save a plug's type, cable (``cable``: socket or tethered; missing: socket), most
    power and EVSE id (normalised to ``CC*OOO*E…``, unique). Raises :class:`NotFound` for
    another owner's plug and :class:`FormInvalid`."""
    errors: dict[str, str] = {}
    connector_type = forms.choice(forms.text(form, "connector_type"), ConnectorType)
    if connector_type is None:
        errors["connector_type"] = N_("Choose the kind of plug: %(kinds)s.",
                                      kinds=", ".join(ConnectorType))
    power_w = forms.kilowatts(forms.text(form, "max_power_kw"), MAX_POWER_KW)
    if power_w is None:
        errors["max_power_kw"] = POWER_ERROR
    cable = forms.text(form, "cable") or CABLE_SOCKET
    if cable not in (CABLE_SOCKET, CABLE_TETHERED):
        errors["cable"] = N_("Choose whether drivers bring their own cable or one is attached.")
    evse_id = None
    try:
        evse_id = normalise_evse_id(forms.text(form, "evse_id"))
    except EvseIdError:
        errors["evse_id"] = (N_("Write the EVSE id as country, operator, E and a number, such as "
                             "NL*VSP*E1234*1."))
    with db.session() as session:
        connector = owned_connector(session, viewer, connector_pk)
        if errors or connector_type is None or power_w is None or evse_id is None:
            raise FormInvalid(errors, form)
        try:
            check_evse_id_free(session, evse_id, connector.id)
            connector.connector_type, connector.max_power_w, connector.evse_id = (
                ConnectorType(connector_type), power_w, evse_id)
            connector.tethered = cable == CABLE_TETHERED
            try:
                session.flush()
            except IntegrityError:
                # Another save took the id between the check and ours: the same answer as
                # the check's (the transaction rolls back).
                raise FormInvalid({"evse_id": _taken(evse_id)}) from None
        except FormInvalid as taken:
            raise FormInvalid(taken.errors, form) from None
        return _plug_edit(connector)
