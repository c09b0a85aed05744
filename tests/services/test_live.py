"""Which stations a live page listens to."""

from __future__ import annotations

import pytest

from voltspot.services.errors import NotFound
from voltspot.services.live import session_station, viewer_stations
from voltspot.services.owner.accounts import Viewer


def test_an_unknown_session_link_is_not_found(db):
    with pytest.raises(NotFound, match="not valid"):
        session_station(db, "no-such-token")


def test_an_admin_board_covers_every_station(db, station):
    assert station.charge_point_id in viewer_stations(db, Viewer(owner_id=0, is_admin=True))


def test_an_owner_board_covers_none_of_another_owners_stations(db, station):
    assert station.charge_point_id not in viewer_stations(db, Viewer(owner_id=-1,
                                                                     is_admin=False))
