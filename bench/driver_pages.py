"""The driver's pages under a charging fleet's load (issue 3): with 10 000 sites and 1 000
chargers streaming meter values, how fast are find-a-spot, the search, the live-session
fragment and the plug page, and how heavy is the plug page's first load. Prints figures;
it is not a test.

The run, all on 127.0.0.1:

1. A fresh database (a temporary SQLite file, or a schema of its own in a PostgreSQL
   database on this machine): ``--sites`` sites over Europe (clusters around 52 cities and
   along the roads between them), each with one station of two plugs and a tariff
   (every fourth station a 50 kW CCS charger with a DC tariff). Every site has a station;
   ``--chargers`` of them, spread at random, have a charger that connects.
2. ``python -m voltspot serve`` with one worker (pinned to one core when there are two).
   With ``--split``, two of them on the same database and the same Redis (``--redis-url``,
   default ``redis://127.0.0.1:6379/9``; the run's keys under a prefix of its own,
   ``VOLTSPOT_REDIS_PREFIX``, deleted at the end): the chargers connect to the *sockets*
   process, every HTTP request below goes to the *pages* process. On two cores each has a
   core of its own and the load clients (the bench's HTTP threads, the charger processes)
   are not pinned: they share the servers' cores. (Without ``--split``, ``--redis-url``
   gives the one server Redis too.)
3. The chargers (:mod:`driver_fleet`) boot, report both plugs Available, start a
   transaction on plug 1 that began ``--history-minutes`` ago, and send one MeterValues
   per open transaction every ``--interval`` seconds. ``--history-sessions`` of those
   sessions get their past meter samples written, so their live page prices a real hour.
4. ``--driver-sessions`` drivers start plug 2 through the real flow (POST
   ``/c/<evse>/start``; the charger accepts the RemoteStartTransaction and starts). Split,
   the pages process holds no charger: each start reaches its charger only through Redis
   (presence, then the command routed to the sockets process), so the sessions that end
   up charging are the check that the split works.
5. HTTP load, open loop: ``--rate`` requests/s (Poisson arrivals) from ``--concurrency``
   client threads for ``--seconds``: find a spot near random European points, search a
   city, the live fragment of a session (``HX-Request: true``, ``HX-Target: live``, as
   the page's poll asks), a plug page. Latency is counted from the moment a request was
   due, so a server that falls behind is not flattered. Then ``--burst-seconds`` back to
   back from the same threads: the most it answers per second.
6. The plug page's first load: its HTML and every stylesheet, script, icon and manifest it
   references (and what their CSS references), each gzip-compressed (level 6) as a proxy
   for a compressing server; images are counted as they are.
7. The same calls in-process, one at a time: service time, SQL statements and SQL time
   per call, and the whole Flask request without a network — to tell query from template.

    .venv/bin/python bench/driver_pages.py [--seconds 45] [--rate 40]
    .venv/bin/python bench/driver_pages.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/driver_pages.py --split [--redis-url redis://127.0.0.1:6379/9]
    .venv/bin/python bench/driver_pages.py --py-spy /tmp/worker.txt   # profile the (pages) worker

The server shares the machine with whatever else runs there: the report says how much CPU
each server's worker took and how much other processes took during the paced phase (on
the server's core and in all), since a single gevent worker near saturation turns a
little stolen CPU into seconds of queueing. Split on two cores, what ran on a server's core
besides its worker includes the bench's own load clients.

The last line is machine-readable: ``spots_p95_ms=X search_p95_ms=Y live_p95_ms=Z
plug_p95_ms=W plug_first_load_kb=K`` (p95 of the paced phase, in ms), followed with
``--split`` by ``split=1 driver_charging=N`` (driver sessions started through the pages
process that were charging at the end of the wait).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import multiprocessing
import os
import queue
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin, urlsplit

import benchdb
import benchlib
import driver_fleet
import driver_seed
import loadgen
import ocpp_load

GOALS_MS = {"spots": 50.0, "search": 50.0, "live": 100.0, "plug": 100.0}
FIRST_LOAD_GOAL_KB = 100.0
MIX = {"spots": 0.25, "search": 0.15, "live": 0.40, "plug": 0.20}
LABELS = {"spots": "find a spot  /?lat=&lon=", "search": "search       /?q=<city>",
          "live": "live fragment (all)", "live:new": "  new driver session",
          "live:1h": "  session with history", "plug": "plug page    /c/<evse>"}
BACKLOG_S = 10.0  # a paced request this late is not sent at all (counted as skipped)
EUROPE = (36.0, 60.0, -9.5, 25.0)  # latitude and longitude bounds of random points
# Every driver start comes from 127.0.0.1: the per-address limit (6 a minute) would refuse
# all but the first few.
SERVER_ENV = {"VOLTSPOT_DRIVER_STARTS_PER_MINUTE": "100000"}
# --split: the two processes find each other's chargers here (indexes 0-3 are development's
# and the tests').
SPLIT_REDIS_URL = "redis://127.0.0.1:6379/9"


# --- HTTP ------------------------------------------------------------------------------

class Http:
    """One keep-alive HTTP/1.1 connection to the server on 127.0.0.1."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: str | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        """Status, headers and body; a dropped keep-alive connection is retried once."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest,
                    ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- what the drivers ask --------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    kind: str  # spots, search, live:new, live:1h, plug
    path: str
    headers: dict[str, str]
    arg: object  # (lat, lon), a city, a token or a plug's URL id


@dataclass
class Workload:
    cities: list[tuple[str, float, float]]
    live_new: list[str]
    live_old: list[str]
    plugs: list[str]

    def point(self, rng: random.Random) -> tuple[float, float]:
        """A driver somewhere in Europe: mostly within ~50 km of a city, else anywhere."""
        if rng.random() < 0.7:
            _, lat, lon = rng.choice(self.cities)
            return rng.gauss(lat, 0.5), rng.gauss(lon, 0.8)
        south, north, west, east = EUROPE
        return rng.uniform(south, north), rng.uniform(west, east)

    def probe(self, kind: str, rng: random.Random) -> Probe:
        if kind == "spots":
            lat, lon = self.point(rng)
            return Probe(kind, "/?" + urlencode({"lat": f"{lat:.5f}", "lon": f"{lon:.5f}"}),
                         {}, (lat, lon))
        if kind == "search":
            city = rng.choice(self.cities)[0]
            return Probe(kind, "/?" + urlencode({"q": city}), {}, city)
        if kind == "live":
            pools = [(k, p) for k, p in (("live:new", self.live_new),
                                         ("live:1h", self.live_old)) if p]
            sub, tokens = rng.choice(pools)
            token = rng.choice(tokens)
            # As the page's poll asks: htmx names the element it swaps (``#live``).
            return Probe(sub, f"/sessions/{token}", {"HX-Request": "true", "HX-Target": "live"},
                         token)
        url_id = rng.choice(self.plugs)
        return Probe("plug", f"/c/{quote(url_id)}", {}, url_id)

    def next(self, rng: random.Random) -> Probe:
        kinds = [k for k in MIX if k != "live" or self.live_new or self.live_old]
        return self.probe(rng.choices(kinds, [MIX[k] for k in kinds])[0], rng)


@dataclass
class Result:
    kind: str
    latency_ms: float  # from when the request was due
    service_ms: float  # from when it was sent
    status: int
    ok: bool
    spots: int = 0  # sites listed (find a spot, search)


def _send(client: Http, probe: Probe) -> tuple[int, bool, int]:
    try:
        status, _, body = client.request("GET", probe.path, probe.headers)
    except (OSError, http.client.HTTPException):
        return 0, False, 0
    if probe.kind in ("spots", "search"):
        return status, status == 200, body.count(b' vs-spot"')
    if probe.kind.startswith("live"):
        return status, status == 200 and b'id="live"' in body, 0
    return status, status == 200 and b"<html" in body, 0


@dataclass
class Phase:
    name: str
    seconds: float
    results: list[Result] = field(default_factory=list)
    skipped: int = 0

    def of(self, kind: str) -> list[Result]:
        return [r for r in self.results if r.kind == kind or r.kind.startswith(kind + ":")]


def run_paced(port: int, workload: Workload, rate: float, seconds: float, concurrency: int,
              seed: int) -> Phase:
    """Open loop: Poisson arrivals at ``rate``/s for ``seconds``, served in order by
    ``concurrency`` threads; a request's latency runs from when it was due."""
    rng = random.Random(seed)
    start = time.monotonic() + 0.2
    due = 0.0
    work: queue.SimpleQueue[tuple[float, Probe]] = queue.SimpleQueue()
    while True:
        due += rng.expovariate(rate)
        if due >= seconds:
            break
        work.put((start + due, workload.next(rng)))
    phase = Phase("paced", seconds)
    lock = threading.Lock()

    def worker() -> None:
        client = Http(port)
        mine: list[Result] = []
        skipped = 0
        try:
            while True:
                try:
                    at, probe = work.get_nowait()
                except queue.Empty:
                    break
                now = time.monotonic()
                if now < at:
                    time.sleep(at - now)
                elif now - at > BACKLOG_S:
                    skipped += 1
                    continue
                sent = time.monotonic()
                status, ok, spots = _send(client, probe)
                done = time.monotonic()
                mine.append(Result(probe.kind, (done - at) * 1000, (done - sent) * 1000,
                                   status, ok, spots))
        finally:
            client.close()
            with lock:
                phase.results.extend(mine)
                phase.skipped += skipped

    _run_threads(worker, concurrency)
    return phase


def run_burst(port: int, workload: Workload, seconds: float, concurrency: int,
              seed: int) -> Phase:
    """Closed loop: every thread sends its next request as soon as the last is answered."""
    phase = Phase("burst", seconds)
    lock = threading.Lock()
    until = time.monotonic() + seconds
    seeds = iter(range(seed, seed + concurrency))

    def worker() -> None:
        with lock:
            rng = random.Random(next(seeds))
        client = Http(port)
        mine: list[Result] = []
        try:
            while time.monotonic() < until:
                probe = workload.next(rng)
                sent = time.monotonic()
                status, ok, spots = _send(client, probe)
                elapsed = (time.monotonic() - sent) * 1000
                mine.append(Result(probe.kind, elapsed, elapsed, status, ok, spots))
        finally:
            client.close()
            with lock:
                phase.results.extend(mine)

    _run_threads(worker, concurrency)
    return phase


def _run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target, daemon=True, name=f"http-{n}")
               for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class DriverStarts:
    tokens: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


def start_driver_sessions(port: int, url_ids: list[str], concurrency: int) -> DriverStarts:
    """The driver flow on each plug: POST ``/c/<evse>/start`` with a fresh start key; the
    303 names the session page, whose token the live fragment is polled with."""
    starts = DriverStarts()
    work: queue.SimpleQueue[str] = queue.SimpleQueue()
    for url_id in url_ids:
        work.put(url_id)
    lock = threading.Lock()
    deadline = time.monotonic() + 90.0  # bounded, even if the server stops answering

    def worker() -> None:
        client = Http(port, timeout=30)
        try:
            while True:
                try:
                    url_id = work.get_nowait()
                except queue.Empty:
                    return
                if time.monotonic() > deadline:
                    with lock:
                        starts.failures["not tried: over time"] += 1
                    continue
                body = urlencode({"start_key": secrets.token_urlsafe(16)})
                sent = time.monotonic()
                try:
                    status, headers, _ = client.request(
                        "POST", f"/c/{quote(url_id)}/start",
                        {"Content-Type": "application/x-www-form-urlencoded"}, body)
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        starts.failures[type(error).__name__] += 1
                    continue
                elapsed = (time.monotonic() - sent) * 1000
                location = headers.get("Location") or ""
                with lock:
                    if status == 303 and "/sessions/" in location:
                        token = location.rsplit("/sessions/", 1)[1].split("?")[0]
                        starts.tokens.append(token)
                        starts.latencies_ms.append(elapsed)
                    else:
                        starts.failures[f"HTTP {status}"] += 1
        finally:
            client.close()

    _run_threads(worker, min(concurrency, max(1, len(url_ids))))
    return starts


def wait_for_charging(url: str, tokens: list[str], timeout: float) -> Counter[str]:
    """Statuses of the sessions behind ``tokens`` once none is still starting (or at
    ``timeout``)."""
    from sqlalchemy import select

    from voltspot.db import Database
    from voltspot.models import ChargingSession

    database = Database(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with database.session() as session:
                statuses = Counter(str(s) for s in session.scalars(
                    select(ChargingSession.status).where(ChargingSession.token.in_(tokens))))
            if not statuses.keys() & {"created", "authorised", "starting"} \
                    or time.monotonic() > deadline:
                return statuses
            time.sleep(0.5)
    finally:
        database.dispose()


# --- first-load weight -----------------------------------------------------------------

class _References(HTMLParser):
    """What a browser fetches for a page: stylesheets, scripts, icons, manifest, images."""

    RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "manifest", "preload",
            "modulepreload", "mask-icon"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.service_worker: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "link" and values.get("href") \
                and set(values.get("rel", "").lower().split()) & self.RELS:
            self.urls.append(values["href"])
        elif tag in ("script", "img", "source", "iframe", "video", "audio") \
                and values.get("src"):
            self.urls.append(values["src"])
        elif tag == "meta" and values.get("name") == "voltspot:service-worker":
            self.service_worker = values.get("content")


CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
SW_SHELL = re.compile(r"const SHELL = (\[.*?\]);", re.S)
COMPRESSIBLE = ("text/", "application/javascript", "application/json",
                "application/manifest+json", "image/svg+xml", "application/xml")


@dataclass
class Asset:
    url: str
    content_type: str
    raw: int
    sent: int  # gzip level 6 for text, as is for images

    @property
    def compressed(self) -> bool:
        return self.content_type.startswith(COMPRESSIBLE)


@dataclass
class Weight:
    page: str
    assets: list[Asset]
    server_encoding: str
    external: list[str]
    after_load: list[Asset]  # what the service worker fetches once installed

    @property
    def total_kb(self) -> float:
        return sum(a.sent for a in self.assets) / 1024

    @property
    def raw_kb(self) -> float:
        return sum(a.raw for a in self.assets) / 1024


def _asset(client: Http, url: str) -> tuple[Asset, bytes]:
    status, headers, body = client.request("GET", url, {"Accept-Encoding": "identity"})
    content_type = (headers.get("Content-Type") or "?").split(";")[0].strip()
    if status != 200:
        content_type = f"HTTP {status}"
    asset = Asset(url, content_type, len(body), len(body))
    if asset.compressed:
        asset.sent = len(gzip.compress(body, compresslevel=6))
    return asset, body


def first_load(port: int, page: str) -> Weight:
    """The page and what it references, each fetched once from the server."""
    client = Http(port)
    origin = f"http://127.0.0.1:{port}"
    try:
        _, headers, _ = client.request("GET", page, {"Accept-Encoding": "gzip"})
        encoding = headers.get("Content-Encoding") or "none"
        html_asset, html = _asset(client, page)
        parser = _References()
        parser.feed(html.decode("utf-8", "replace"))
        assets, seen, external = [html_asset], {page}, []
        pending = [urljoin(origin + page, u) for u in parser.urls]
        while pending:
            absolute = pending.pop(0)
            parts = urlsplit(absolute)
            if absolute.startswith("data:"):
                continue
            if f"{parts.scheme}://{parts.netloc}" != origin:
                external.append(absolute)
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path in seen:
                continue
            seen.add(path)
            asset, body = _asset(client, path)
            assets.append(asset)
            if asset.content_type == "text/css":
                pending += [urljoin(absolute, u) for u in CSS_URL.findall(body.decode(
                    "utf-8", "replace")) if not u.startswith("data:")]
        after: list[Asset] = []
        if parser.service_worker:
            worker, body = _asset(client, parser.service_worker)
            after.append(worker)
            match = SW_SHELL.search(body.decode("utf-8", "replace"))
            for url in json.loads(match.group(1)) if match else []:
                if url not in seen:
                    seen.add(url)
                    after.append(_asset(client, url)[0])
        return Weight(page, assets, encoding, external, after)
    finally:
        client.close()


# --- in-process breakdown --------------------------------------------------------------

@dataclass
class Breakdown:
    kind: str
    service_ms: list[float] = field(default_factory=list)
    request_ms: list[float] = field(default_factory=list)
    statements: int = 0
    sql_ms: float = 0.0
    calls: int = 0


class SqlMeter:
    """Counts statements and their time on one engine."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.statements = 0
        self.seconds = 0.0
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: object) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_: object) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.statements += 1


def in_process(url: str, workload: Workload, calls: int, seed: int) -> list[Breakdown]:
    """Each kind ``calls`` times, one at a time, in this process against the live
    database: the service call alone (with SQL counted), then the whole Flask request."""
    from voltspot.config import load_settings
    from voltspot.db import Database
    from voltspot.services.driver import live, plugs, spots

    client = None
    try:
        from voltspot.app import create_app

        app = create_app({"database_url": url})
        db = app.extensions["voltspot"].db
        client = app.test_client()
    except Exception as error:  # noqa: BLE001 - the app is being edited; service calls still work
        print(f"in-process app not available ({type(error).__name__}: {error}); service "
              "calls only", flush=True)
        db = Database(url)
    remote_start_timeout = load_settings({"database_url": url}).remote_start_timeout
    meter = SqlMeter(db.engine)
    rng = random.Random(seed)

    def call(probe: Probe) -> None:
        if probe.kind == "spots":
            spots.find_spots(db, near=probe.arg)
        elif probe.kind == "search":
            spots.find_spots(db, query=probe.arg)
        elif probe.kind.startswith("live"):
            live.live_session(db, probe.arg, remote_start_timeout)
        else:
            plugs.plug_page(db, probe.arg)

    kinds = ["spots", "search"] + [k for k, p in (("live:new", workload.live_new),
                                                  ("live:1h", workload.live_old)) if p]
    rows = []
    try:
        for kind in kinds + ["plug"]:
            row = Breakdown(kind)
            for number in range(calls + 2):  # the first two warm caches, not counted
                probe = workload.probe(kind.split(":")[0], rng)
                if kind.startswith("live"):
                    token = rng.choice(workload.live_new if kind == "live:new"
                                       else workload.live_old)
                    probe = Probe(kind, f"/sessions/{token}", probe.headers, token)
                statements, sql_seconds = meter.statements, meter.seconds
                started = time.perf_counter()
                call(probe)
                service_ms = (time.perf_counter() - started) * 1000
                statements, sql_seconds = meter.statements - statements, \
                    meter.seconds - sql_seconds
                started = time.perf_counter()
                if client is not None:
                    client.get(probe.path, headers=probe.headers)
                request_ms = (time.perf_counter() - started) * 1000 if client else float("nan")
                if number >= 2:
                    row.service_ms.append(service_ms)
                    row.request_ms.append(request_ms)
                    row.statements += statements
                    row.sql_ms += sql_seconds * 1000
                    row.calls += 1
            rows.append(row)
    finally:
        db.dispose()
    return rows


# --- fleet -----------------------------------------------------------------------------

class FleetPool(ocpp_load.ClientPool):
    """:class:`ocpp_load.ClientPool` running :func:`driver_fleet.client_main`."""

    def __init__(self, plans: list[driver_fleet.FleetPlan]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes = []
        self.processes = []
        for number, plan in enumerate(plans):
            ours, theirs = context.Pipe()
            self._pipes.append(ours)
            self.processes.append(context.Process(
                target=driver_fleet.client_main, args=(plan, theirs), daemon=True,
                name=f"driver-fleet-{number}"))


def _merge_streams(reports: list[driver_fleet.StreamReport]) -> driver_fleet.StreamReport:
    merged = driver_fleet.StreamReport()
    for report in reports:
        merged.meter_values += report.meter_values
        merged.latencies_ms += report.latencies_ms
        merged.answered_at += report.answered_at
        merged.call_errors.update(report.call_errors)
        merged.timeouts += report.timeouts
        merged.dropped += report.dropped
        merged.remote_starts += report.remote_starts
        merged.remote_start_failures.update(report.remote_start_failures)
    return merged


# --- profiling -------------------------------------------------------------------------

@contextlib.contextmanager
def py_spy(pid: int, seconds: float, output: str | None) -> Iterator[None]:
    """``py-spy record`` on ``pid`` for ``seconds`` (collapsed stacks), when asked."""
    if not output:
        yield
        return
    executable = shutil.which("py-spy", path=str(Path(sys.executable).parent)) \
        or shutil.which("py-spy")
    if executable is None:
        print("py-spy not found; not profiling", flush=True)
        yield
        return
    process = subprocess.Popen(
        [executable, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
         "--rate", "200", "--format", "raw", "--output", output, "--nonblocking", "--idle"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        preexec_fn=benchlib.die_with_parent)
    try:
        yield
    finally:
        try:
            _, errors = process.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate(timeout=5)
        if process.returncode:
            print(f"py-spy failed: {errors.decode(errors='replace').strip()[-300:]}")


def summarise_profile(path: str, top: int = 18) -> None:
    """Inclusive share of the worker's samples per function of ours (and the database
    driver, templates), from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaves[frames[-1]] += count
        for frame in set(frames):
            if any(m in frame for m in ("voltspot/", "sqlite3", "psycopg", "jinja2",
                                        "sqlalchemy/engine", "sqlalchemy/orm/loading")):
                inclusive[frame] += count
    if not total:
        print("profile: no samples")
        return
    idle = sum(n for frame, n in leaves.items() if frame.startswith("Hub.run ("))
    print(f"\nprofile of the worker ({total} wall-clock samples; {100 * idle / total:.0f}% "
          f"idle, the gevent hub waiting): inclusive share, top {top}")
    for frame, count in inclusive.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {_short_frame(frame)}")
    print("self time, top 8 (idle included)")
    for frame, count in leaves.most_common(8):
        print(f"  {100 * count / total:5.1f}%  {_short_frame(frame)}")


def _short_frame(frame: str) -> str:
    return re.sub(r"\(/[^)]*?/(site-packages|backend)/", "(", frame)


# --- report ----------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))] if ordered else float("nan")


def _phase_table(phase: Phase, goals: bool) -> None:
    header = (f"{'':32}{'requests':>9}{'bad':>5}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
              f"{'max ms':>8}")
    print(header + ("   goal p95" if goals else ""))
    for kind in ("spots", "search", "live", "live:new", "live:1h", "plug"):
        results = phase.of(kind)
        if not results:
            continue
        latencies = [r.latency_ms for r in results]
        bad = sum(not r.ok for r in results)
        line = (f"{LABELS[kind]:32}{len(results):>9}{bad:>5}"
                f"{len(results) / phase.seconds:>8.1f}{percentile(latencies, 0.5):>8.1f}"
                f"{percentile(latencies, 0.95):>8.1f}{max(latencies):>8.1f}")
        if goals and kind in GOALS_MS:
            p95 = percentile(latencies, 0.95)
            line += f"   < {GOALS_MS[kind]:.0f} {'OK' if p95 < GOALS_MS[kind] else 'MISSED'}"
        print(line)
    every = [r.latency_ms for r in phase.results]
    print(f"{'all':32}{len(every):>9}{sum(not r.ok for r in phase.results):>5}"
          f"{len(every) / phase.seconds:>8.1f}{percentile(every, 0.5):>8.1f}"
          f"{percentile(every, 0.95):>8.1f}{max(every, default=float('nan')):>8.1f}")
    statuses = Counter(r.status for r in phase.results if not r.ok)
    if statuses:
        print(f"bad answers by HTTP status (0 = no answer): {dict(statuses)}")


def report(args: argparse.Namespace, network: driver_seed.Network, history_rows: int,
           connect: loadgen.ConnectReport, starts: DriverStarts, statuses: Counter[str],
           paced: Phase, burst: Phase | None, stream: driver_fleet.StreamReport,
           stream_seconds: float, windows: dict[str, tuple[float, float]],
           cpu: dict[str, float], weight: Weight,
           breakdown: list[Breakdown], database: str) -> str:
    print(f"\n=== driver pages under load: {network.sites:,} sites, "
          f"{connect.booted:,} chargers connected ({connect.started:,} charging on plug 1), "
          f"{database}"
          + (": pages and sockets on separate processes, sharing the database and Redis"
             if args.split else "") + " ===")
    if connect.failures:
        print(f"connect failures: {dict(connect.failures)}")
    print(f"MeterValues: one per open transaction every {args.interval:g} s — "
          f"{stream.meter_values:,} answered in {stream_seconds:.0f} s "
          f"({stream.meter_values / stream_seconds:,.0f}/s); latency p50 "
          f"{percentile(stream.latencies_ms, 0.5):.1f} ms, p95 "
          f"{percentile(stream.latencies_ms, 0.95):.1f} ms, max "
          f"{percentile(stream.latencies_ms, 1.0):.1f} ms; CallErrors "
          f"{sum(stream.call_errors.values())}, timeouts {stream.timeouts}, dropped "
          f"{stream.dropped}")
    for name, (start, end) in windows.items():
        inside = [ms for at, ms in zip(stream.answered_at, stream.latencies_ms, strict=True)
                  if start <= at < end]
        print(f"  MeterValues answered during the {name} phase: {len(inside) / (end - start):,.0f}"
              f"/s, latency p50 {percentile(inside, 0.5):.1f} ms, p95 "
              f"{percentile(inside, 0.95):.1f} ms, max {percentile(inside, 1.0):.1f} ms")
    route = (" on the pages process → over Redis to the sockets process" if args.split
             else "")
    print(f"driver starts (POST /c/<evse>/start{route} → RemoteStartTransaction → "
          f"StartTransaction): {len(starts.tokens)}/{args.driver_sessions} answered 303, "
          f"p50 {percentile(starts.latencies_ms, 0.5):.0f} ms, p95 "
          f"{percentile(starts.latencies_ms, 0.95):.0f} ms; sessions now {dict(statuses)}"
          + (f"; failures {dict(starts.failures)}" if starts.failures else "")
          + (f"; charger side {dict(stream.remote_start_failures)}"
             if stream.remote_start_failures else ""))
    print(f"sessions with history: {args.history_sessions}, started {args.history_minutes:g} "
          f"min ago, {history_rows:,} past meter samples written")

    print(f"\npaced: {args.rate:g} req/s open loop (Poisson), {args.concurrency} client "
          f"threads, {paced.seconds:.0f} s; mix "
          + ", ".join(f"{k} {100 * v:.0f}%" for k, v in MIX.items())
          + "; latency from when each request was due")
    _phase_table(paced, goals=True)
    if paced.skipped:
        print(f"skipped (over {BACKLOG_S:.0f} s behind schedule): {paced.skipped}")
    spots = [r.spots for r in paced.of("spots")] + [r.spots for r in paced.of("search")]
    print(f"sites listed per find-a-spot / search page: mean "
          f"{sum(spots) / max(1, len(spots)):.1f}")
    print("CPU % (1 core = 100): " + "; ".join(
        f"{name} {value:.0f}" for name, value in cpu.items()))
    if cpu.get("other processes on this machine, paced", 0) > 30 \
            or cpu.get("others on the server's core, paced", 0) > 10:
        print("  NOTE: other processes competed for the cores during the paced phase; "
              "latencies are pessimistic")
    if burst is not None:
        print(f"\nsaturation: {args.concurrency} client threads back to back, "
              f"{burst.seconds:.0f} s → {len(burst.results) / burst.seconds:,.0f} req/s "
              "in all")
        _phase_table(burst, goals=False)

    print(f"\nplug page first load ({weight.page}); server Content-Encoding for "
          f"'Accept-Encoding: gzip': {weight.server_encoding}")
    print(f"{'':52}{'type':>24}{'raw KB':>9}{'gzip KB':>9}")
    for asset in sorted(weight.assets, key=lambda a: -a.sent):
        print(f"  {asset.url[:50]:50}{asset.content_type[:24]:>24}{asset.raw / 1024:>9.1f}"
              f"{asset.sent / 1024:>9.1f}" + ("" if asset.compressed else " (as is)"))
    verdict = "OK" if weight.total_kb <= FIRST_LOAD_GOAL_KB else "MISSED"
    print(f"  {'total (' + str(len(weight.assets)) + ' requests)':50}{'':>24}"
          f"{weight.raw_kb:>9.1f}{weight.total_kb:>9.1f}   ≤ {FIRST_LOAD_GOAL_KB:.0f} "
          f"{verdict}")
    if weight.after_load:
        extra = sum(a.sent for a in weight.after_load) / 1024
        print(f"  after load, the service worker's install fetches {len(weight.after_load)} "
              f"more ({extra:.1f} KB gzip): "
              + ", ".join(f"{a.url} {a.sent / 1024:.1f}" for a in weight.after_load))
    if weight.external:
        print(f"  other origins, not counted: {weight.external}")

    print(f"\nin-process, one call at a time under the same fleet load ({args.calls} calls "
          "each): service call alone, then the whole Flask request (no network); exec ms = "
          "time in cursor.execute (SQLite fetches rows later, so not all of the SQL time)")
    print(f"{'':32}{'service p50':>12}{'p95':>8}{'SQL/call':>10}{'exec ms':>8}"
          f"{'request p50':>13}{'p95':>8}")
    for row in breakdown:
        print(f"{LABELS.get(row.kind, row.kind):32}"
              f"{percentile(row.service_ms, 0.5):>12.1f}{percentile(row.service_ms, 0.95):>8.1f}"
              f"{row.statements / row.calls:>10.1f}{row.sql_ms / row.calls:>8.1f}"
              f"{percentile(row.request_ms, 0.5):>13.1f}{percentile(row.request_ms, 0.95):>8.1f}")

    p95 = {k: percentile([r.latency_ms for r in paced.of(k)], 0.95) for k in GOALS_MS}
    return (f"spots_p95_ms={p95['spots']:.1f} search_p95_ms={p95['search']:.1f} "
            f"live_p95_ms={p95['live']:.1f} plug_p95_ms={p95['plug']:.1f} "
            f"plug_first_load_kb={weight.total_kb:.1f}")


# --- the servers -----------------------------------------------------------------------

@dataclass
class Cores:
    """Where the processes run: ``None`` is not pinned."""

    sockets: set[int] | None  # the server the chargers connect to
    pages: set[int] | None  # the server the HTTP load goes to (the same one unless split)
    clients: set[int] | None  # this bench's HTTP threads and the charger processes
    description: str

    def of(self, role: str) -> set[int] | None:
        """The cores of the server with ``role`` (server, sockets or pages)."""
        return self.pages if role == "pages" else self.sockets


def plan_cores(split: bool, no_pin: bool) -> Cores:
    """One process: the server on one core, the load clients on the others. Split: the
    sockets process on one core, the pages process on another, the load clients on the
    rest — on two cores that is nowhere of their own, so they share the servers' cores."""
    if not split:
        server, clients, description = ocpp_load._core_split(no_pin)
        return Cores(server, server, clients, description)
    cpus = sorted(os.sched_getaffinity(0))
    if no_pin or len(cpus) < 2:
        return Cores(None, None, None, "not pinned: both servers and the load clients share "
                                       f"{len(cpus)} core(s)")
    rest = set(cpus[2:]) or None
    clients = (f"load clients to CPU {','.join(map(str, cpus[2:]))}" if rest else
               "load clients (HTTP threads, chargers) not pinned: they share both servers' "
               "cores")
    return Cores({cpus[0]}, {cpus[1]}, rest,
                 f"sockets process pinned to CPU {cpus[0]}, pages process to CPU {cpus[1]}, "
                 f"{clients} ({len(cpus)} cores in all)")


@dataclass
class Servers:
    """The running server(s): ``sockets`` holds the chargers, ``pages`` answers the
    drivers; one process is both unless split."""

    sockets: ocpp_load.Target
    pages: ocpp_load.Target
    logs: list[Path]

    @property
    def split(self) -> bool:
        return self.sockets is not self.pages

    @property
    def port(self) -> int:
        """The pages process's HTTP port."""
        port = urlsplit(self.pages.ws_url).port
        assert port is not None
        return port

    def roles(self) -> list[tuple[str, ocpp_load.Target]]:
        return [("sockets", self.sockets), ("pages", self.pages)] if self.split \
            else [("server", self.sockets)]

    def pids(self) -> list[int]:
        """Every server process: gunicorn masters and workers."""
        return [pid for _, t in self.roles() for pid in (t.pid, *t.pids)]


@contextlib.contextmanager
def redis_namespace(url: str) -> Iterator[str]:
    """A key prefix of this run's own on the Redis at ``url``; its keys (and only those)
    are deleted at the end."""
    import redis

    if urlsplit(url).hostname not in benchdb.LOCAL_HOSTS:
        raise SystemExit("the bench only talks to a Redis on 127.0.0.1")
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as error:
        raise SystemExit(f"Redis at {url} does not answer ({error})") from None
    prefix = f"voltspot-bench:{os.getpid()}:{secrets.token_hex(4)}:"
    try:
        yield prefix
    finally:
        with contextlib.suppress(redis.RedisError):
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start:start + 1000])
        client.close()


@contextlib.contextmanager
def start_servers(database: benchdb.BenchDatabase, cores: Cores, split: bool,
                  redis_url: str | None) -> Iterator[Servers]:
    """``voltspot serve`` with one worker, or (split) two of them on the same database and
    Redis: one for the chargers' sockets, one for the pages. Stopped on exit."""
    env = dict(SERVER_ENV)
    with contextlib.ExitStack() as stack:
        if redis_url:
            env["VOLTSPOT_REDIS_PREFIX"] = stack.enter_context(redis_namespace(redis_url))
            print(f"Redis: {redis_url}, keys under {env['VOLTSPOT_REDIS_PREFIX']} (deleted "
                  "at the end)", flush=True)
        sockets, log = stack.enter_context(ocpp_load.voltspot_server(
            database.url, database.work_dir, cores.sockets, 1, redis_url,
            name="sockets" if split else None, env=env))
        if not split:
            yield Servers(sockets, sockets, [log])
            return
        pages, pages_log = stack.enter_context(ocpp_load.voltspot_server(
            database.url, database.work_dir, cores.pages, 1, redis_url, name="pages",
            env=env))
        print(f"split: chargers connect to the sockets process ({sockets.ws_url}), the HTTP "
              f"load goes to the pages process (port {urlsplit(pages.ws_url).port})",
              flush=True)
        yield Servers(sockets, pages, [log, pages_log])


def _worker_cpu(servers: Servers) -> dict[str, float]:
    return {role: target.cpu_seconds() for role, target in servers.roles()}


# --- the run ---------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Driver pages under a charging fleet's load (prints figures; not a test).")
    parser.add_argument("--sites", type=int, default=10_000,
                        help="sites, each with one station of two plugs (default 10000)")
    parser.add_argument("--chargers", type=int, default=1000,
                        help="stations whose charger connects and streams (default 1000)")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between MeterValues of one transaction (default 5)")
    parser.add_argument("--history-minutes", type=float, default=60.0,
                        help="plug-1 transactions started this long ago (default 60)")
    parser.add_argument("--history-sessions", type=int, default=50,
                        help="of those, sessions given their past meter samples and polled "
                             "live (default 50)")
    parser.add_argument("--driver-sessions", type=int, default=50,
                        help="drivers who start plug 2 through the web flow (default 50)")
    parser.add_argument("--rate", type=float, default=40.0,
                        help="paced HTTP requests per second (default 40)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="HTTP client threads (default 16)")
    parser.add_argument("--seconds", type=float, default=45.0,
                        help="paced phase, measured (default 45)")
    parser.add_argument("--burst-seconds", type=float, default=15.0,
                        help="back-to-back phase; 0 to skip (default 15)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="paced requests before measuring (default 5 s)")
    parser.add_argument("--calls", type=int, default=40,
                        help="in-process calls per kind for the breakdown (default 40)")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh temporary SQLite file; a postgresql:// URL on "
                             "127.0.0.1 gets a new schema of its own in that database")
    parser.add_argument("--split", action="store_true",
                        help="two server processes on the same database and Redis: the "
                             "chargers connect to one, the drivers' pages are asked of the "
                             "other (on two cores, one core each)")
    parser.add_argument("--redis-url", default=None,
                        help=f"Redis the servers share (default with --split: "
                             f"{SPLIT_REDIS_URL}; without it, none); the run's keys go under "
                             "a prefix of its own, deleted at the end")
    parser.add_argument("--clients", type=int, default=1,
                        help="charger processes (default 1)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server and the clients to separate cores")
    parser.add_argument("--py-spy", metavar="FILE", default=None,
                        help="profile the worker with py-spy during the paced phase "
                             "(collapsed stacks to FILE) and summarise")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (logs, SQLite file) and the schema")
    args = parser.parse_args(argv)
    if not 1 <= args.chargers <= args.sites <= 200_000:
        parser.error("need 1 <= --chargers <= --sites <= 200000")
    if args.history_sessions + args.driver_sessions > args.chargers:
        parser.error("--history-sessions + --driver-sessions must not exceed --chargers")
    if not 1 <= args.seconds <= 300 or not 0 <= args.burst_seconds <= 120 \
            or not 0 <= args.warmup <= 60:
        parser.error("--seconds 1..300, --burst-seconds 0..120, --warmup 0..60")
    if not 0.1 <= args.rate <= 2000 or not 1 <= args.concurrency <= 64:
        parser.error("--rate 0.1..2000, --concurrency 1..64")
    if not 1 <= args.interval <= 300 or not 1 <= args.clients <= 8 or args.calls < 1:
        parser.error("--interval 1..300, --clients 1..8, --calls >= 1")
    if args.split and args.redis_url is None:
        args.redis_url = SPLIT_REDIS_URL
    return args


def run(args: argparse.Namespace) -> str:
    benchlib.raise_nofile_limit()
    cores = plan_cores(args.split, args.no_pin)
    if cores.clients:
        os.sched_setaffinity(0, cores.clients)  # HTTP clients too: the servers' cores are theirs
    password = secrets.token_urlsafe(18)
    database = benchdb.create_database(args.database_url, keep=args.keep)
    postgres = database.url.startswith("postgresql")
    rng = random.Random(args.seed)
    try:
        network = driver_seed.seed_network(database.url, args.sites, args.chargers, password,
                                           args.seed)
        print(f"database: {database.description}; {network.sites:,} sites with a station "
              f"of 2 plugs each seeded in {network.seconds:.1f} s", flush=True)
        print(f"cores: {cores.description}" + ("; PostgreSQL not pinned" if postgres else "")
              + f"; load average before the run: {os.getloadavg()[0]:.2f}", flush=True)
        chosen = network.connected[:]
        rng.shuffle(chosen)
        history_ids = chosen[:args.history_sessions]
        driver_ids = chosen[args.history_sessions:args.history_sessions + args.driver_sessions]
        ids = [driver_seed.charge_point_id(s) for s in network.connected]
        dc_ids = frozenset(driver_seed.charge_point_id(s) for s in network.connected
                           if driver_seed.is_dc(s))
        with start_servers(database, cores, args.split, args.redis_url) as servers:
            port = servers.port
            connect_timeout = 60.0 + 0.05 * len(ids)
            plans = [driver_fleet.FleetPlan(
                servers.sockets.ws_url, ids[i::args.clients], password, dc_ids,
                args.interval, args.history_minutes * 60, cores.clients,
                connect_timeout=connect_timeout, seed=args.seed + i)
                for i in range(args.clients)]
            started = time.monotonic()
            print(f"connecting {len(ids):,} chargers …", flush=True)
            with FleetPool(plans) as pool:
                connect = ocpp_load._merge_connect(pool.gather("ready", connect_timeout + 60))
                print(f"{connect.booted:,} booted, {connect.started:,} charging in "
                      f"{time.monotonic() - started:.1f} s; failures: "
                      f"{dict(connect.failures) or 'none'}", flush=True)
                history = driver_seed.backfill_history(database.url, history_ids, args.interval)
                print(f"history: {history.rows:,} meter samples for {len(history.tokens)} "
                      f"sessions in {history.seconds:.1f} s", flush=True)
                pool.send_all(("stream", None))
                stream_started = time.monotonic()
                starts = start_driver_sessions(
                    port, [driver_seed.plug_url_id(s, 2) for s in driver_ids], 8)
                statuses = wait_for_charging(database.url, starts.tokens, 30.0)
                print(f"driver sessions: {len(starts.tokens)} started; {dict(statuses)}",
                      flush=True)
                workload = Workload(
                    [(c[0], c[2], c[3]) for c in driver_seed.CITIES], starts.tokens,
                    history.tokens,
                    [driver_seed.plug_url_id(s, n) for s in network.connected for n in (1, 2)])
                if args.warmup:
                    run_paced(port, workload, args.rate, args.warmup, args.concurrency,
                              args.seed + 100)
                print(f"paced phase: {args.rate:g} req/s for {args.seconds:.0f} s …",
                      flush=True)
                ours = servers.pids() + [p.pid for p in pool.processes if p.pid]
                cpu0 = _worker_cpu(servers)
                db0 = ocpp_load._postgres_cpu_seconds() if postgres else 0.0
                mine0, busy0 = _our_cpu_seconds(ours), benchlib.machine_busy()
                core0 = {role: _core_busy(cores.of(role)) for role, _ in servers.roles()
                         if cores.of(role)}
                windows = {}
                with py_spy(servers.pages.pids[0], args.seconds, args.py_spy):
                    started = time.monotonic()
                    paced = run_paced(port, workload, args.rate, args.seconds,
                                      args.concurrency, args.seed + 200)
                    windows["paced"] = (started, time.monotonic())
                cpu1 = _worker_cpu(servers)
                cpu = {f"{role} worker, paced": 100 * (cpu1[role] - cpu0[role]) / args.seconds
                       for role in cpu0}
                db_cpu = ocpp_load._postgres_cpu_seconds() - db0 if postgres else 0.0
                if postgres and db_cpu >= 0:  # negative when backends exited meanwhile
                    cpu["PostgreSQL (all its processes), paced"] = 100 * db_cpu / args.seconds
                db_cpu = max(0.0, db_cpu)
                busy1 = benchlib.machine_busy()
                others = (busy1[0] - busy0[0]) - (_our_cpu_seconds(ours) - mine0) - db_cpu
                cpu["other processes on this machine, paced"] = 100 * others / args.seconds
                for role, busy in core0.items():
                    # a server's own core: what ran there besides its worker (split on two
                    # cores: the load clients too)
                    label = ("others on the server's core, paced" if role == "server" else
                             f"besides the {role} worker on its core (load clients "
                             "included), paced")
                    cpu[label] = 100 * (_core_busy(cores.of(role)) - busy
                                        - (cpu1[role] - cpu0[role])) / args.seconds
                burst = None
                if args.burst_seconds:
                    print(f"burst phase: {args.burst_seconds:.0f} s …", flush=True)
                    cpu0 = _worker_cpu(servers)
                    started = time.monotonic()
                    burst = run_burst(port, workload, args.burst_seconds, args.concurrency,
                                      args.seed + 300)
                    windows["burst"] = (started, time.monotonic())
                    cpu1 = _worker_cpu(servers)
                    cpu.update({f"{role} worker, burst":
                                100 * (cpu1[role] - cpu0[role]) / args.burst_seconds
                                for role in cpu0})
                # a free plug of a connected station: what a driver's QR scan opens
                weight = first_load(port, "/c/" + driver_seed.plug_url_id(chosen[-1], 2))
                print("in-process breakdown …", flush=True)
                try:
                    breakdown = in_process(database.url, workload, args.calls, args.seed + 400)
                except Exception as error:  # noqa: BLE001 - keep the figures measured so far
                    print(f"in-process breakdown failed: {type(error).__name__}: {error}")
                    breakdown = []
                pool.send_all(("stop", None))
                stream = _merge_streams(pool.gather("streamed", 60.0))
                stream_seconds = time.monotonic() - stream_started
            if args.keep:
                print(f"server log{'s' if servers.split else ''}: "
                      + ", ".join(map(str, servers.logs)))
        last = report(args, network, history.rows, connect, starts, statuses, paced, burst,
                      stream, stream_seconds, windows, cpu, weight, breakdown,
                      database.description)
        if args.split:
            last += f" split=1 driver_charging={statuses.get('charging', 0)}"
        if args.py_spy and Path(args.py_spy).exists():
            summarise_profile(args.py_spy)
        return last
    finally:
        database.drop()


def _core_busy(cpus: set[int] | None) -> float:
    """Busy CPU seconds so far of the cores in ``cpus`` (all cores when None)."""
    total = 0.0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cpus is not None and int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in values[:8]]
        total += (sum(ticks) - ticks[3] - ticks[4]) / benchlib.CLOCK_TICKS
    return total


def _our_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of the bench (all its threads) and of ``pids`` (server, chargers)."""
    total = sum(os.times()[:2])
    for pid in pids:
        with contextlib.suppress(OSError):
            total += benchlib.cpu_seconds(pid)
    return total


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the server, the chargers and py-spy are stopped on the way out,
    including on Ctrl-C, SIGTERM or an error."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    try:
        last_line = run(args)
    except KeyboardInterrupt:
        print("interrupted; server and chargers stopped", file=sys.stderr)
        return 130
    print(last_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
