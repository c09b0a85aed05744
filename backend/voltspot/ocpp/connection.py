"""One charger's OCPP-J connection, served synchronously in its own greenlet.

Incoming CALLs are parsed, validated and routed to the version's ``on_<action>``
handlers; our outgoing CALLs are paired with their CALLRESULT / CALLERROR by message id.
Nothing a charger sends can end the connection except closing it: every bad frame gets
its OCPP-J answer and a log line naming the station.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import InternalError, OCPPError
from ocpp.messages import Call, CallError, CallResult, MessageType
from ocpp.routing import create_route_map

from voltspot.domain.protocol import OcppVersion
from voltspot.domain.statuses import Direction
from voltspot.ocpp import frames
from voltspot.services.charger_control import ChargerError, NoAnswer, StationOffline

log = logging.getLogger("voltspot.ocpp")

FrameLog = Callable[[Direction, str], None]

# What a charger reports that live pages show (see ``on_handled``).
CHANGES = frozenset({"BootNotification", "StatusNotification", "MeterValues",
                     "StartTransaction", "StopTransaction", "TransactionEvent",
                     "NotifyEvent"})


class _Waiting:
    __slots__ = ("action", "done", "reply")

    def __init__(self, action: str) -> None:
        self.action = action
        self.done = threading.Event()
        self.reply: CallResult | CallError | None = None


class OcppConnection:
    """Serve one charger. ``handlers`` is the version's incoming-message translator (an
    object whose methods carry ``@on(action)``); ``websocket`` is a simple-websocket
    connection. ``on_handled`` is told the action of each message in :data:`CHANGES`
    once it is answered (what it changed is then stored)."""

    def __init__(self, websocket, charge_point_id: str, version: OcppVersion,
                 handlers: object, *, connection_id: str, frame_log: FrameLog,
                 response_timeout: float, on_handled: Callable[[str], None] | None = None
                 ) -> None:
        self.websocket = websocket
        self.charge_point_id = charge_point_id
        self.version = version
        self.connection_id = connection_id
        self.response_timeout = response_timeout
        self._handlers = handlers
        self._routes = create_route_map(handlers)
        self._actions = frozenset(self._routes)
        self._frame_log = frame_log
        self._on_handled = on_handled
        self._waiting: dict[str, _Waiting] = {}
        # OCPP-J allows one outstanding CALL per direction.
        self._call_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.closed = False

    def serve(self) -> None:
        """Read and answer frames until the charger or :meth:`close` ends the socket."""
        try:
            while not self.closed:
                text = self.websocket.receive()
                if text is None:
                    continue
                self._on_frame(text)
        finally:
            self.closed = True
            for waiting in list(self._waiting.values()):
                waiting.done.set()

    def close(self, reason: int = 1000, message: str = "") -> None:
        """Close the socket (a newer connection from the same charger replaces this one)."""
        self.closed = True
        try:
            self.websocket.close(reason=reason, message=message)
        except Exception:  # noqa: BLE001 - a half-open socket may fail to close; it is gone anyway
            log.debug("%s: closing an already broken socket", self.charge_point_id)

    def _send(self, text: str) -> None:
        self._frame_log(Direction.OUT, text)
        with self._send_lock:
            self.websocket.send(text)

    def _on_frame(self, text: str | bytes) -> None:
        self._frame_log(Direction.IN, text if isinstance(text, str) else repr(text))
        try:
            message = frames.parse_frame(text)
        except OCPPError as error:
            log.warning("%s: unreadable frame (%s): %.200r", self.charge_point_id,
                        error.description, text)
            self._send_error(frames.unique_id_of(text), error)
            return
        if message.message_type_id == MessageType.Call:
            self._on_call(message)
        else:
            self._on_reply(message)

    def _on_call(self, call: Call) -> None:
        try:
            frames.check_action(call.action, self.version, self._actions)
            frames.validate(MessageType.Call, call.action, call.payload, self.version)
            handler = self._routes[call.action]["_on_action"]
            result = handler(**frames.snake_case_keys(call.payload))
        except OCPPError as error:
            log.warning("%s: %s %s answered %s: %s", self.charge_point_id, call.action,
                        call.unique_id, error.code, error.description)
            self._send_error(call.unique_id, error)
            return
        except Exception:
            log.exception("%s: %s %s failed", self.charge_point_id, call.action, call.unique_id)
            self._send_error(call.unique_id, InternalError(
                description=f"the CSMS could not process {call.action}"))
            return
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(result)))
        self._send(call.create_call_result(payload).to_json())
        if self._on_handled is not None and call.action in CHANGES:
            self._on_handled(call.action)
        after = self._routes[call.action].get("_after_action")
        if after is not None:
            try:
                after(**frames.snake_case_keys(call.payload))
            except Exception:
                log.exception("%s: after %s %s failed", self.charge_point_id, call.action,
                              call.unique_id)

    def _send_error(self, unique_id: str, error: OCPPError) -> None:
        code = frames.error_code(error, self.version)
        self._send(CallError(unique_id, code, error.description or "", {}).to_json())

    def _on_reply(self, reply: CallResult | CallError) -> None:
        waiting = self._waiting.get(reply.unique_id)
        if waiting is None:
            log.warning("%s: reply %s answers no request we sent; ignored",
                        self.charge_point_id, reply.unique_id)
            return
        waiting.reply = reply
        waiting.done.set()

    def call(self, action: str, payload: dict[str, Any], timeout: float | None = None
             ) -> dict[str, Any]:
        """Send a CALL and return the charger's CALLRESULT payload (camelCase keys).

        Raises :class:`StationOffline` if the socket is gone, :class:`NoAnswer` after
        ``timeout`` seconds and :class:`ChargerError` for a CALLERROR. The payload is
        validated before sending; a reply that breaks its schema is logged and still
        returned, since chargers often answer with small deviations.
        """
        timeout = self.response_timeout if timeout is None else timeout
        frames.validate(MessageType.Call, action, payload, self.version)
        if not self._call_lock.acquire(timeout=timeout):
            raise NoAnswer(self.charge_point_id, action, timeout)
        try:
            if self.closed:
                raise StationOffline(self.charge_point_id)
            call = Call(str(uuid.uuid4()), action, payload)
            waiting = self._waiting[call.unique_id] = _Waiting(action)
            try:
                self._send(call.to_json())
            except Exception:
                raise StationOffline(self.charge_point_id) from None
            answered = waiting.done.wait(timeout)
            self._waiting.pop(call.unique_id, None)
        finally:
            self._call_lock.release()
        reply = waiting.reply
        if reply is None:
            if not answered or not self.closed:
                raise NoAnswer(self.charge_point_id, action, timeout)
            raise StationOffline(self.charge_point_id)
        if isinstance(reply, CallError):
            raise ChargerError(self.charge_point_id, action, reply.error_code,
                               reply.error_description)
        try:
            frames.validate(MessageType.CallResult, action, reply.payload, self.version)
        except OCPPError as error:
            log.warning("%s: %s answer does not fit the schema (%s); accepted anyway",
                        self.charge_point_id, action, error.description)
        return reply.payload
