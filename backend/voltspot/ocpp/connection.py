"""One charger's OCPP-J connection, served synchronously in its own greenlet.

Incoming CALLs are parsed, validated and routed to the version's ``on_<action>``
handlers; our outgoing CALLs are paired with their CALLRESULT / CALLERROR by message id.
Nothing a charger sends can end the connection except closing it: every bad frame gets
its OCPP-J answer and a log line naming the station. What one connection may hold is
bounded: a charger that sends faster than it reads its answers is slowed down (we stop
reading its socket) and closed when that goes on, as is one whose calls keep coming faster
than any charger needs.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import InternalError, OCPPError
from ocpp.messages import Call, CallError, CallResult, MessageType
from ocpp.routing import create_route_map
from simple_websocket import ConnectionClosed
from wsproto.events import Ping
from wsproto.utilities import LocalProtocolError

from voltspot.domain.protocol import OcppVersion
from voltspot.domain.statuses import Direction
from voltspot.ocpp import frames
from voltspot.services.charger_control import (
    ChargerError,
    ChargerUnreachable,
    NoAnswer,
    StationOffline,
)

try:
    from gevent import Timeout as _SendTimeout
    from gevent.monkey import is_module_patched
    _GEVENT = is_module_patched("socket")
except ImportError:  # pragma: no cover - the server always runs under gevent
    _GEVENT = False

log = logging.getLogger("voltspot.ocpp")

FrameLog = Callable[[Direction, str], None]

# What a charger reports that live pages show (see ``on_handled``).
CHANGES = frozenset({"BootNotification", "StatusNotification", "MeterValues",
                     "StartTransaction", "StopTransaction", "TransactionEvent",
                     "NotifyEvent"})

# How long one of our frames may wait for the charger to read it. A charger that sends
# and never reads its answers meets this too: its socket is not read while one of its
# frames is handled, so TCP pushes back on it until its answers are taken.
SEND_STALL_SECONDS = 30.0
# How long a ping or our close frame may wait for its turn and for room in the socket (a
# charger's buffer stays full only when it reads nothing).
CONTROL_STALL_SECONDS = 2.0
# How long a charger has to answer our close frame before its socket is shut (one that
# never answers is half-open).
CLOSE_GRACE_SECONDS = 5.0
# Calls a charger may send: a burst (an offline queue replayed), then a sustained rate far
# above what any charger needs (a busy one sends a few a second; one replaying its queue
# over a real network, where each call waits a round trip for its answer, some tens).
CALL_BURST = 2000
CALLS_PER_SECOND = 200.0
# Close codes (RFC 6455): too big, policy violation.
CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008


class ReadByTheConnection:
    """The WebSocket server's ``thread_class``: a reader thread that never starts.

    simple-websocket reads each socket in a thread of its own that hands every message to
    the handler's thread through an event; :class:`OcppConnection` reads its socket itself
    instead. That halves the switches per frame, needs no queue between the two, and a
    charger's socket is not read while its frame is handled, so TCP pushes back on one
    that sends faster than it is answered."""

    def __init__(self, target: Callable[[], None] | None = None, **_: Any) -> None:
        self.name = "read by the OCPP connection"

    def start(self) -> None:
        """Nothing to start: :meth:`OcppConnection.serve` reads."""

    def join(self, timeout: float | None = None) -> None:
        """Nothing runs."""

    def is_alive(self) -> bool:
        return False


class StationRejected(ChargerUnreachable):
    """The station is Rejected: the CSMS sends it nothing (OCPP 2.0.1 B03.FR.08)."""

    def __init__(self, charge_point_id: str) -> None:
        super().__init__(f"station {charge_point_id} is rejected; accept it before sending "
                         "it commands")
        self.charge_point_id = charge_point_id


def _loggable(text: str | bytes) -> str:
    # PostgreSQL text cannot hold NUL: one such frame would fail the whole group-commit
    # batch of frame-log rows, other stations' included.
    text = text if isinstance(text, str) else repr(text)
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


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
        self._send_timer: _SendTimeout | None = None
        self.closed = False
        self._max_frame_bytes = getattr(websocket, "max_message_size", None)
        self._tokens = float(CALL_BURST)
        self._tokens_at = time.monotonic()
        # Keep-alive (see keep_alive): whether anything came from the charger since the
        # last round, and whether that round pinged it.
        self._heard = True
        self._pinged = False

    def serve(self) -> None:
        """Read and answer frames until the charger or :meth:`close` ends the socket."""
        try:
            while not self.closed:
                try:
                    text = self._receive()
                except (ConnectionClosed, OSError):
                    return  # the charger went away; nothing to answer
                if text is None or self.closed:
                    return
                if self._too_big(text):
                    return
                try:
                    self._on_frame(text)
                except (ConnectionClosed, OSError):
                    return  # the socket broke while we answered
                except Exception:
                    if self.closed:
                        return
                    # Our own bug, not the charger's: answer it and keep serving.
                    log.exception("%s: frame not handled: %.200r", self.charge_point_id, text)
                    self._send_error(frames.unique_id_of(text), InternalError(
                        description="the CSMS could not process this frame"))
        finally:
            self.closed = True
            for waiting in list(self._waiting.values()):
                waiting.done.set()

    def _receive(self) -> str | bytes | None:
        """The charger's next message, read from the socket here (see
        :class:`ReadByTheConnection`); None once the socket is closed. A WebSocket ping is
        answered and a close frame ends the socket in simple-websocket's event handling,
        as its own reader thread would."""
        websocket = self.websocket
        received = websocket.input_buffer
        while not received:
            if not websocket.connected:
                return None
            data = websocket.sock.recv(websocket.receive_bytes)
            if not data:
                websocket.connected = False
                return None
            self._heard = True
            try:
                websocket.ws.receive_data(data)
                websocket.connected = websocket._handle_events()
            except LocalProtocolError:
                websocket.connected = False
                return None
        return received.pop(0)

    def _too_big(self, text: str | bytes) -> bool:
        """The frame size limit counts bytes (the WebSocket layer counts characters)."""
        limit = self._max_frame_bytes
        if not limit or len(text) * 4 <= limit:
            return False
        size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        if size <= limit:
            return False
        log.warning("%s: frame of %d bytes is over the limit of %d; closing",
                    self.charge_point_id, size, limit)
        self.close(CLOSE_TOO_BIG, "Message is too big")
        return True

    def _drop(self) -> None:
        """Close at once, even while a send to the charger is stuck (a charger that does
        not read): shutting the socket down wakes whoever waits on it."""
        self.closed = True
        self.websocket.connected = False
        self.websocket.event.set()
        try:
            self.websocket.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            log.debug("%s: socket already gone", self.charge_point_id)

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self._tokens = min(CALL_BURST, self._tokens + (now - self._tokens_at) * CALLS_PER_SECOND)
        self._tokens_at = now
        self._tokens -= 1
        return self._tokens >= 0

    def close(self, reason: int = 1000, message: str = "") -> None:
        """Close the socket (a newer connection from the same charger replaces this one):
        send our close frame; the charger's answer ends :meth:`serve`, and a charger that
        has not answered within ``CLOSE_GRACE_SECONDS`` (a half-open socket) is cut off."""
        if self.closed:
            return
        self.closed = True
        if not self._send_lock.acquire(timeout=CONTROL_STALL_SECONDS):
            self._drop()  # a send of ours is stuck: the charger reads nothing
            return
        try:
            self._bounded(lambda: self.websocket.close(reason=reason, message=message),
                          CONTROL_STALL_SECONDS)
        except Exception:  # noqa: BLE001 - a half-open socket may fail to close; it is gone anyway
            log.debug("%s: closing an already broken socket", self.charge_point_id)
        finally:
            self._send_lock.release()
        cut_off = threading.Timer(CLOSE_GRACE_SECONDS, self._drop)
        cut_off.daemon = True
        cut_off.start()

    def keep_alive(self) -> None:
        """One round of keep-alive, called once per ping interval (see
        :meth:`~voltspot.ocpp.registry.ConnectionRegistry.keep_alive`): a charger heard
        from since the last round is there; a silent one is pinged; one that has not
        answered the last round's ping either is taken for gone (a half-open socket) and
        its socket is shut. Pinging only the silent keeps a busy fleet's sockets free of
        pings, and no timer runs per socket."""
        if self.closed:
            return
        if self._heard:
            self._heard = self._pinged = False
            return
        if self._pinged:
            log.warning("%s: answered no WebSocket ping; taken for gone, closing",
                        self.charge_point_id)
            self._drop()
            return
        if not self._send_lock.acquire(blocking=False):
            return  # a frame of ours is on its way; the next round pings if need be
        try:
            self._pinged = True
            ping = self.websocket.ws.send(Ping())
            self._bounded(lambda: self.websocket.sock.sendall(ping), CONTROL_STALL_SECONDS)
        except (OSError, LocalProtocolError):
            self._drop()
        finally:
            self._send_lock.release()

    def _bounded(self, write: Callable[[], object], seconds: float) -> None:
        """Run ``write`` (a write to the socket); shut the socket if it takes over
        ``seconds``."""
        if not _GEVENT:
            write()
            return
        self._write_within(_SendTimeout(seconds), seconds, write)

    def _send(self, text: str) -> None:
        self._frame_log(Direction.OUT, text)
        with self._send_lock:
            if not _GEVENT:
                self.websocket.send(text)
                return
            # One timer per connection, re-armed for each send (sends take turns under
            # the lock): making one per frame cost more than the send itself.
            timer = self._send_timer
            if timer is None:
                timer = self._send_timer = _SendTimeout(SEND_STALL_SECONDS)
            if not self._write_within(timer, SEND_STALL_SECONDS,
                                      lambda: self.websocket.send(text)):
                raise StationOffline(self.charge_point_id)

    def _write_within(self, timer: _SendTimeout, seconds: float,
                      write: Callable[[], object]) -> bool:
        """Run ``write`` (a write to the socket) under ``timer`` (of ``seconds``). A write
        that stalls that long (the charger reads nothing) shuts the socket: False."""
        timer.start()
        try:
            write()
            return True
        except _SendTimeout as timeout:
            if timeout is not timer:
                raise
            log.warning("%s: has not read what we sent for %.0f s; closing",
                        self.charge_point_id, seconds)
            self._drop()
            return False
        finally:
            timer.cancel()

    def _on_frame(self, text: str | bytes) -> None:
        self._frame_log(Direction.IN, _loggable(text))
        try:
            message = frames.parse_frame(text)
        except OCPPError as error:
            log.warning("%s: unreadable frame (%s): %.200r", self.charge_point_id,
                        error.description, text)
            self._send_error(frames.unique_id_of(text), error)
            return
        if message.message_type_id == MessageType.Call:
            if not self._within_rate():
                log.warning("%s: more than %.0f calls a second after a burst of %d; closing",
                            self.charge_point_id, CALLS_PER_SECOND, CALL_BURST)
                self.close(CLOSE_POLICY, "Too many calls")
                return
            self._on_call(message)
        else:
            self._on_reply(message)

    def _on_call(self, call: Call) -> None:
        try:
            frames.check_action(call.action, self.version, self._actions)
            self._handlers.check_admitted(call.action)
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
        self._send(frames.call_result_json(call.unique_id, payload))
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

        Raises :class:`StationRejected` for a Rejected station (nothing is sent),
        :class:`StationOffline` if the socket is gone, :class:`NoAnswer` after
        ``timeout`` seconds and :class:`ChargerError` for a CALLERROR. The payload is
        validated before sending; a reply that breaks its schema is logged and still
        returned, since chargers often answer with small deviations.
        """
        timeout = self.response_timeout if timeout is None else timeout
        frames.validate(MessageType.Call, action, payload, self.version)
        refuses = getattr(self._handlers, "refuses_commands", None)
        if refuses is not None and refuses():
            raise StationRejected(self.charge_point_id)
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
