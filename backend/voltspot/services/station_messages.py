"""The service side of one charger's incoming OCPP messages: each message's use case run
as its own unit of work, so that the OCPP handlers only translate.

A message's use case is a service function taking a SQLAlchemy session and the charge
point id first. Most run in a transaction of their own, committed before the charger is
answered; the frequent meter values go to the group-commit writer instead (many
chargers' frames durable in one transaction, each charger answered once its frame is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.authorization import IdTagInfo
from voltspot.domain.statuses import AuthorizationStatus
from voltspot.group_commit import GroupCommitter
from voltspot.services.charger_control import ChargerControl
from voltspot.services.charging import lifecycle, metered, transactions
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.tokens import authorize_tag
from voltspot.services.stations import provisioning
from voltspot.services.stations import registry as stations

P = ParamSpec("P")
T = TypeVar("T")

UseCase = Callable[Concatenate[Session, str, P], T]

# OCPP 2.0.1 idToken types of an RFID card: the only ones a roaming partner's RFID token
# (OCPI TokenType RFID) can arrive as.
ROAMING_TOKEN_TYPES = frozenset({"ISO14443", "ISO15693"})


class StationMessages:
    """Runs the use cases of one charger's messages (``charge_point_id``)."""

    def __init__(self, charge_point_id: str, db: Database, committer: GroupCommitter,
                 control: ChargerControl) -> None:
        self.charge_point_id = charge_point_id
        self._db = db
        self._committer = committer
        self._control = control

    def run(self, use_case: UseCase[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``use_case(session, charge_point_id, *args, **kwargs)`` in its own transaction,
        committed when it returns; its exception rolls it back and propagates."""
        with self._db.session() as session:
            return use_case(session, self.charge_point_id, *args, **kwargs)

    def run_grouped(self, use_case: UseCase[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Like :meth:`run`, in the group-commit writer's next batch: returns once that
        batch is committed (see :class:`~voltspot.group_commit.GroupCommitter`). The
        batch reads the stations of all its chargers (connectors, site) and their open
        sessions in one query each (see
        :func:`~voltspot.services.charging.lifecycle.load_open_sessions`)."""
        def write(session: Session) -> T:
            return use_case(session, self.charge_point_id, *args, **kwargs)
        return self._committer.submit(write, prepare=lifecycle.load_open_sessions,
                                      key=self.charge_point_id)

    def record_seen(self) -> None:
        """A heartbeat (see :func:`~voltspot.services.stations.registry.record_seen`), in
        the group-commit writer's next batch, with nothing read ahead: it needs no station
        loaded. Returns once committed."""
        charge_point_id = self.charge_point_id
        self._committer.submit(lambda session: stations.record_seen(session, charge_point_id))

    def record_meter_values(self, connector_id: int, transaction_id: int | None,
                            readings: list[lifecycle.MeterReading], *, station_id: int
                            ) -> None:
        """Store a MeterValues (see :func:`~voltspot.services.charging.lifecycle.
        record_meter_values`) in the group-commit writer's next batch, which reads the
        sessions of all its chargers' transactions in one query; returns once committed.
        """
        def write(session: Session) -> None:
            lifecycle.record_meter_values(session, self.charge_point_id, connector_id,
                                          transaction_id, readings, station_id=station_id)
        if transaction_id is None:
            self._committer.submit(write)
        else:
            self._committer.submit(write, prepare=metered.load_sessions,
                                   key=transaction_id)

    def authorize(self, id_tag: str, identity: Identity, *, timeout: float,
                  id_token_type: str | None = None) -> IdTagInfo:
        """Answer Authorize: our own cards, else a roaming partner's token, asked about
        in real time outside any transaction (see
        :func:`voltspot.services.roaming.tokens.authorize_tag`). A 2.0.1 idToken
        (``id_token_type`` given) is a roaming partner's only when it is an RFID card's
        (:data:`ROAMING_TOKEN_TYPES`)."""
        if id_token_type is not None and id_token_type not in ROAMING_TOKEN_TYPES:
            return self.run(lifecycle.authorize, id_tag)
        return authorize_tag(self._db, identity, self.charge_point_id, id_tag, timeout=timeout)

    def start_transaction(self, identity: Identity, *, timeout: float, connector_id: int,
                          id_tag: str, meter_start: int, timestamp: datetime,
                          reservation_id: int | None = None) -> lifecycle.StartResult:
        """Record a 1.6 StartTransaction (see
        :func:`voltspot.services.charging.lifecycle.start_transaction`) in the group-commit
        writer's next batch, which reads ahead for all its starts
        (:func:`~voltspot.services.charging.lifecycle.load_starts`). A tag none of our
        cards or starts knows may be a roaming partner's that the charger let in from its
        own list without asking: the partner is asked first, as at Authorize, and a
        partner's Blocked or Expired is what the charger is told. Our own cards and starts
        (nearly every start) cost one look-up of the tag, in the batch."""
        report = lifecycle.StartReport(self.charge_point_id, connector_id, id_tag, timestamp,
                                       meter_start)

        def record(unknown_tags_first: bool) -> lifecycle.StartResult | None:
            def write(session: Session) -> lifecycle.StartResult | None:
                return lifecycle.start_transaction(
                    session, self.charge_point_id, connector_id=connector_id, id_tag=id_tag,
                    meter_start=meter_start, timestamp=timestamp,
                    reservation_id=reservation_id, unknown_tags_first=unknown_tags_first)
            return self._committer.submit(write, prepare=lifecycle.load_starts, key=report)

        started = record(unknown_tags_first=True)
        if started is not None:
            return started
        roaming = authorize_tag(self._db, identity, self.charge_point_id, id_tag,
                                timeout=timeout)
        result = record(unknown_tags_first=False)  # recorded whatever the tag
        return replace(result, id_tag_info=_partners_verdict(result.id_tag_info, roaming))

    def record_transaction_event(self, event: transactions.TransactionEventReport, *,
                                 station_id: int, follows_on: bool, grouped: bool,
                                 identity: Identity | None = None, timeout: float = 0.0
                                 ) -> transactions.EventAnswer:
        """Record a 2.0.1 transaction event (group-committed when ``grouped``).

        ``follows_on`` (an event following one recorded as new over the same connection)
        skips the replay check; should the event turn out to be numbered like one already
        recorded after all (a charger that renumbered), it is recorded again with the
        check.

        With ``identity``, an RFID idToken the transaction does not already run under and
        none of our cards or starts knows may be a roaming partner's that the charger let
        in without asking (its own list or cache, or while offline): the partner is asked
        first, outside any transaction, as at Authorize and 1.6 StartTransaction; the
        session it opens is the one the event joins, and a partner's Blocked or Expired
        is what the charger is told."""
        roaming = None
        if identity is not None and event.id_tag and \
                event.id_token_type in ROAMING_TOKEN_TYPES:
            with self._db.session() as session:
                known = transactions.runs_under(session, station_id,
                                                event.charger_transaction_id, event.id_tag)
            if not known:
                roaming = authorize_tag(self._db, identity, self.charge_point_id,
                                        event.id_tag, timeout=timeout)

        def record(follows_on: bool) -> transactions.EventAnswer:
            def write(session: Session) -> transactions.EventAnswer:
                return transactions.record_transaction_event(
                    session, self.charge_point_id, event, station_id=station_id,
                    follows_on=follows_on)
            if not grouped:
                with self._db.session() as session:
                    return write(session)
            # The batch reads the sessions of all its chargers' events in one query.
            return self._committer.submit(write, prepare=transactions.load_by_charger_ids,
                                          key=(station_id, event.charger_transaction_id))

        try:
            answer = record(follows_on)
        except IntegrityError:
            if not follows_on:
                raise
            answer = record(False)
        if roaming is None or answer.id_tag_info is None:
            return answer
        return replace(answer, id_tag_info=_partners_verdict(answer.id_tag_info, roaming))

    def configure_after_boot(self, *, sample_interval_s: int) -> None:
        """Configure the charger's metering and read its device model after it booted
        (see :func:`voltspot.services.stations.provisioning.configure_after_boot`); it
        sends the charger commands, so it must not run on the charger's reader."""
        provisioning.configure_after_boot(self._db, self._control, self.charge_point_id,
                                          sample_interval_s=sample_interval_s)

    def read_plug_count(self) -> None:
        """Ask a 1.6 station with no declared plugs how many it has (see
        :func:`voltspot.services.stations.provisioning.read_plug_count`); it sends the
        charger a command, so it must not run on the charger's reader."""
        provisioning.read_plug_count(self._db, self._control, self.charge_point_id)


def _partners_verdict(recorded: IdTagInfo, roaming: IdTagInfo) -> IdTagInfo:
    """What a charger is told about a tag at the start of its transaction: the roaming
    partner's Blocked or Expired rather than our plain Invalid (the tag is no card of
    ours), so the charger's cache learns why."""
    if recorded.status == AuthorizationStatus.INVALID and roaming.status in (
            AuthorizationStatus.BLOCKED, AuthorizationStatus.EXPIRED):
        return roaming
    return recorded
