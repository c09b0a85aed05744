"""What every version's incoming-message translator shares: each message handed to one
service use case, run on the service side as its own unit of work
(:class:`~voltspot.services.station_messages.StationMessages`)."""

from __future__ import annotations

from voltspot.config import Settings
from voltspot.db import Database
from voltspot.group_commit import GroupCommitter
from voltspot.services.charger_control import ChargerControl
from voltspot.services.station_messages import StationMessages


class StationHandlers:
    """Base of the ``on_<action>`` handlers for one connected charger. Handlers translate
    payloads and answers only: ``self._messages`` runs each use case (in its own
    transaction, or group-committed for the frequent meter values)."""

    def __init__(self, charge_point_id: str, station_id: int, db: Database,
                 committer: GroupCommitter, settings: Settings,
                 control: ChargerControl) -> None:
        self.charge_point_id = charge_point_id
        self.station_id = station_id
        self._settings = settings
        self._messages = StationMessages(charge_point_id, db, committer, control)
