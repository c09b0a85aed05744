"""What every version's incoming-message translator shares: running one service call
per message, in its own transaction or group-committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from voltspot.config import Settings
from voltspot.db import Database
from voltspot.group_commit import GroupCommitter
from voltspot.services.charger_control import ChargerControl

T = TypeVar("T")


class StationHandlers:
    """Base of the ``on_<action>`` handlers for one connected charger. Each message is its
    own database transaction, except the frequent meter-value messages, which are
    group-committed before the charger is answered."""

    def __init__(self, charge_point_id: str, station_id: int, db: Database,
                 committer: GroupCommitter, settings: Settings,
                 control: ChargerControl) -> None:
        self.charge_point_id = charge_point_id
        self.station_id = station_id
        self._db = db
        self._committer = committer
        self._settings = settings
        self._control = control

    def _run(self, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._db.session() as session:
            return use_case(session, self.charge_point_id, *args, **kwargs)

    def _run_grouped(self, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def write(session: Session) -> T:
            return use_case(session, self.charge_point_id, *args, **kwargs)
        return self._committer.submit(write)
