"""Commands to chargers whose socket another process holds.

A command is an :class:`Intent`: the name of a
:class:`~voltspot.services.charger_control.ChargerControl` method and its keyword
arguments, both plain data. :class:`RoutedChargerControl` is a ChargerControl for any
process: it runs an intent on the local socket when this process holds it, and otherwise
hands it to the holding process's :class:`CommandRouter` over Redis and waits for the
outcome, which comes back as the same value or the same error a local call gives
(:class:`~voltspot.services.charger_control.StationOffline`,
:class:`~voltspot.services.charger_control.NoAnswer`,
:class:`~voltspot.services.charger_control.ChargerError`, ...).

Each process reads its own inbox, a Redis list: a request waits there while the process
is busy and is dropped once its caller has given up, so a command is never carried out
long after somebody was told it failed.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voltspot.cluster import codec
from voltspot.cluster.node import RedisNode
from voltspot.cluster.presence import Presence
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerUnreachable,
    NoAnswer,
    StationOffline,
)
from voltspot.services.errors import ServiceError

log = logging.getLogger("voltspot.cluster")

# The holding process answers within the command's own timeout; the caller allows this
# much more for the two trips through Redis before it gives up.
ROUTING_GRACE = 5.0
_POLL_SECONDS = 1


def intent_names(interface: type = ChargerControl) -> frozenset[str]:
    """The methods of ``interface`` that can be sent as intents: every public one."""
    return frozenset(name for name, member in vars(interface).items()
                     if not name.startswith("_") and inspect.isfunction(member))


INTENTS = intent_names()


class UnknownIntent(ServiceError):
    """Not a ChargerControl method, or arguments it does not take."""


@dataclass(frozen=True)
class Intent:
    """One ChargerControl call as data: ``method`` and all its arguments by name (the
    first is always ``charge_point_id``)."""

    method: str
    kwargs: dict[str, Any]

    @classmethod
    def of(cls, method: str, *args: Any, **kwargs: Any) -> Intent:
        """The intent of calling ``ChargerControl.<method>(*args, **kwargs)``; raises
        :class:`UnknownIntent` when that call would not fit the interface."""
        if method not in INTENTS:
            raise UnknownIntent(f"{method} is not a ChargerControl command")
        signature = inspect.signature(getattr(ChargerControl, method))
        try:
            bound = signature.bind(None, *args, **kwargs)
        except TypeError as error:
            raise UnknownIntent(f"{method}: {error}") from None
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(signature.parameters)))
        return cls(method, arguments)

    @property
    def charge_point_id(self) -> str:
        return self.kwargs["charge_point_id"]

    def apply(self, control: ChargerControl) -> Any:
        """Carry the intent out on ``control``."""
        if self.method not in INTENTS:
            raise UnknownIntent(f"{self.method} is not a ChargerControl command")
        return getattr(control, self.method)(**self.kwargs)

    def to_json(self) -> Any:
        return {"method": self.method, "kwargs": codec.to_jsonable(self.kwargs)}

    @classmethod
    def from_json(cls, data: Any) -> Intent:
        return cls(data["method"], codec.from_jsonable(data["kwargs"]))


class ProcessFailed(ChargerUnreachable):
    """The process holding the socket failed while carrying the command out."""


class CommandRouter:
    """This process's end of command routing: serves its inbox (intents for the sockets
    it holds, notices that a charger moved elsewhere) and sends requests to other
    processes' inboxes.

    ``local`` carries intents out on this process's sockets; ``on_evicted`` is told a
    charge point id whose charger has reconnected to another process.
    """

    def __init__(self, node: RedisNode, local: ChargerControl, timeout: float,
                 on_evicted: Callable[[str], None] | None = None,
                 alive_ttl: float = 10.0) -> None:
        self.node_id = node.node_id
        self.timeout = timeout
        self.on_evicted = on_evicted
        self._node = node
        self._redis = node.client
        self._local = local
        self._alive_ttl_ms = max(1, int(alive_ttl * 1000))
        self._stopped = threading.Event()
        self._server: threading.Thread | None = None

    def _inbox(self, node_id: str) -> str:
        return self._node.key("inbox", node_id)

    def _alive_key(self, node_id: str) -> str:
        return self._node.key("node", node_id)

    def is_alive(self, node_id: str) -> bool:
        """Whether ``node_id`` is serving its inbox (it renews a key while it does)."""
        return bool(self._redis.exists(self._alive_key(node_id)))

    # -- the caller's side --------------------------------------------------------------

    def call(self, holder: str, intent: Intent, timeout: float | None = None) -> Any:
        """Carry ``intent`` out in process ``holder`` and return its outcome, or raise the
        error it raised. Raises :class:`StationOffline` when ``holder`` is not serving
        and :class:`NoAnswer` when no outcome comes within ``timeout`` (default: the
        command timeout) plus :data:`ROUTING_GRACE` seconds."""
        timeout = self.timeout if timeout is None else timeout
        charge_point_id = intent.charge_point_id
        if not self.is_alive(holder):
            raise StationOffline(charge_point_id)
        request_id = uuid.uuid4().hex
        reply_key = self._node.key("reply", request_id)
        waited = timeout + ROUTING_GRACE
        request = {"kind": "intent", "id": request_id, "reply": reply_key,
                   "deadline": time.time() + waited, "intent": intent.to_json()}
        inbox = self._inbox(holder)
        pipe = self._redis.pipeline()
        pipe.rpush(inbox, json.dumps(request))
        pipe.pexpire(inbox, int(waited * 1000))
        pipe.execute()
        answer = self._redis.blpop([reply_key], timeout=max(1, round(waited)))
        if answer is None:
            raise NoAnswer(charge_point_id, intent.method, timeout)
        reply = json.loads(answer[1])
        if "error" in reply:
            error = codec.from_jsonable(reply["error"])
            if isinstance(error, BaseException):
                raise error
            raise ProcessFailed(str(error))
        return codec.from_jsonable(reply["value"])

    def evict(self, holder: str, charge_point_id: str) -> None:
        """Tell ``holder`` that the charger has reconnected here: its socket is stale."""
        inbox = self._inbox(holder)
        pipe = self._redis.pipeline()
        pipe.rpush(inbox, json.dumps({"kind": "evict", "charge_point_id": charge_point_id,
                                      "by": self.node_id}))
        pipe.pexpire(inbox, self._alive_ttl_ms)
        pipe.execute()

    # -- the holder's side --------------------------------------------------------------

    def start(self) -> None:
        """Serve this process's inbox until :meth:`stop` (idempotent)."""
        if self._server is not None:
            return
        self._mark_alive()
        self._server = threading.Thread(target=self._serve, name="command-router",
                                        daemon=True)
        self._server.start()

    def stop(self) -> None:
        """Stop serving (returns once the inbox is no longer read)."""
        self._stopped.set()
        if self._server is not None:
            # Wakes the blocking read at once.
            self._redis.rpush(self._inbox(self.node_id), json.dumps({"kind": "stop"}))
            self._server.join(timeout=_POLL_SECONDS + 2)
        self._redis.delete(self._alive_key(self.node_id), self._inbox(self.node_id))

    def _mark_alive(self) -> None:
        self._redis.set(self._alive_key(self.node_id), "1", px=self._alive_ttl_ms)

    def _serve(self) -> None:
        inbox = self._inbox(self.node_id)
        renew_every = self._alive_ttl_ms / 3000
        renewed = 0.0
        while not self._stopped.is_set():
            try:
                if time.monotonic() - renewed >= renew_every:
                    self._mark_alive()
                    renewed = time.monotonic()
                item = self._redis.blpop([inbox], timeout=_POLL_SECONDS)
            except Exception:
                log.exception("could not read the command inbox; trying again in 1 s")
                self._stopped.wait(1)
                continue
            if item is None or self._stopped.is_set():
                continue
            try:
                request = json.loads(item[1])
            except ValueError:
                log.warning("unreadable request in the command inbox: %.200r", item[1])
                continue
            if request.get("kind") == "stop":
                continue
            if request.get("kind") == "evict":
                self._on_evict(request)
            elif request.get("kind") == "intent":
                threading.Thread(target=self._carry_out, args=(request,),
                                 name="routed-command", daemon=True).start()
            else:
                log.warning("unknown request in the command inbox: %.200r", item[1])

    def _on_evict(self, request: dict[str, Any]) -> None:
        charge_point_id = request["charge_point_id"]
        log.info("%s: reconnected to %s", charge_point_id, request.get("by"))
        if self.on_evicted is not None:
            try:
                self.on_evicted(charge_point_id)
            except Exception:
                log.exception("%s: could not close the stale socket", charge_point_id)

    def _carry_out(self, request: dict[str, Any]) -> None:
        if time.time() > request["deadline"]:
            log.warning("dropping a command whose caller has given up: %.200r", request)
            return
        reply: dict[str, Any]
        try:
            intent = Intent.from_json(request["intent"])
            reply = {"value": codec.to_jsonable(intent.apply(self._local))}
        except ServiceError as error:
            reply = {"error": codec.to_jsonable(error)}
        except Exception as error:
            log.exception("routed command failed: %.200r", request)
            reply = {"error": codec.to_jsonable(ProcessFailed(
                f"the process holding the charger's socket failed: {error}"))}
        pipe = self._redis.pipeline()
        pipe.rpush(request["reply"], json.dumps(reply))
        pipe.pexpire(request["reply"], int(ROUTING_GRACE * 2000))
        pipe.execute()


class RoutedChargerControl:
    """A :class:`~voltspot.services.charger_control.ChargerControl` for every process:
    each method call becomes an :class:`Intent`, carried out on ``local`` when this
    process holds the station's socket and routed to the holder otherwise."""

    def __init__(self, local: ChargerControl, presence: Presence,
                 router: CommandRouter) -> None:
        self._local = local
        self._presence = presence
        self._router = router

    def run(self, intent: Intent) -> Any:
        """Carry ``intent`` out wherever the station's socket is."""
        charge_point_id = intent.charge_point_id
        if self._presence.holds(charge_point_id):
            return intent.apply(self._local)
        holder = self._presence.holder(charge_point_id)
        if holder is None:
            raise StationOffline(charge_point_id)
        if holder == self._presence.node_id:
            return intent.apply(self._local)
        return self._router.call(holder, intent)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in INTENTS:
            raise AttributeError(name)

        def routed(*args: Any, **kwargs: Any) -> Any:
            return self.run(Intent.of(name, *args, **kwargs))

        routed.__name__ = name
        routed.__doc__ = getattr(ChargerControl, name).__doc__
        return routed
