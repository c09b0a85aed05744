"""OCPP load benchmark: how many meter-value calls per second one Voltspot process answers
(durably), at what latency and memory per connection, against a bare asyncio + ocpp
central system of the same OCPP version on the same machine and load. Prints figures; it
is not a test.

Load mode (default): N chargers connect (Basic auth), boot, start one transaction and send
the measured call (4 sampled values) back to back, each waiting for its answer, for a
warm-up and then ``--seconds`` measured. With ``--ocpp 1.6`` (default) that is MeterValues
after StartTransaction; with ``--ocpp 2.0.1`` it is TransactionEvent Updated after a
StatusNotification (Occupied) and TransactionEvent Started with the bench's card and a
charger-chosen transaction id. Server CPU per answered call is the figure that survives a
shared machine: ``cpu_ratio`` is the bare library's CPU per call over Voltspot's (≥ 1.0:
Voltspot is as cheap per call). ``--workers 1 2`` runs Voltspot with each number of gunicorn
workers in turn (more than one needs ``--redis-url``); CPU and RSS are summed over workers.

Idle mode (``--idle N``): N chargers connect and boot, stay idle, then answer a ping; how
many the server holds and its RSS per connection are reported.

Fleet mode (``--fleet``): ``--chargers`` (default 10,000) connect spread over ``--ramp``
seconds, each sending BootNotification, a StatusNotification per connector and a
transaction start, then MeterValues every ``--meter-every`` (60) and Heartbeat every
``--heartbeat-every`` (300) seconds. Reported: how long each charger waited from opening its
socket to its transaction's answer, then, after ``--settle`` seconds, ``--duration``
seconds of steady state: latency, server CPU, CallErrors, RSS per connection.

    .venv/bin/python bench/ocpp_load.py [--ocpp 2.0.1] [--chargers 1000] [--seconds 20]
    .venv/bin/python bench/ocpp_load.py --workers 1 2 --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/ocpp_load.py --idle 10000
    .venv/bin/python bench/ocpp_load.py --fleet [--chargers 2000 --duration 120]
    .venv/bin/python bench/ocpp_load.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The last line is machine-readable:
``chargers=N calls_per_s=X p99_ms=Y bare_calls_per_s=Z ratio=R cpu_ms_per_call=C
bare_cpu_ms_per_call=B cpu_ratio=Q`` then ``wN_calls_per_s= wN_p99_ms= wN_cpu_ms_per_call=
wN_cpu_ratio=`` per number of workers N (load); ``idle_connections=N
rss_per_connection_kb=K`` (idle); ``fleet chargers=N ready=… ready_within_60s=… …`` (fleet);
led by ``ocpp=2.0.1`` for 2.0.1. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import benchdb
import benchlib
import loadgen

STATION_PREFIX = "BENCH-"
PRIMER_ID = "PRIMER-1"
SAMPLES_PER_CALL = 4
MEASURED_CONTEXT = "Sample.Periodic"
MAX_SECONDS = 300.0
MAX_CHARGERS = 50_000


@dataclass
class Target:
    """A running central system: where chargers connect and which process holds them."""

    name: str
    ws_url: str
    pid: int
    workers: tuple[int, ...] = ()

    @property
    def pids(self) -> tuple[int, ...]:
        """The processes serving chargers (the gunicorn workers; the bare server)."""
        return self.workers or (self.pid,)

    def cpu_seconds(self) -> float:
        return sum(benchlib.cpu_seconds(pid) for pid in self.pids)

    def rss_kb(self) -> int:
        return sum(benchlib.rss_kb(pid) for pid in self.pids)


@dataclass
class Figures:
    """What one run against one target measured."""

    name: str
    chargers: int
    connect: loadgen.ConnectReport
    rss_before_kb: int
    rss_connected_kb: int = 0
    rss_after_kb: int = 0
    sockets: int = 0
    fd_limit: str = "?"
    window_s: float = 0.0
    load: loadgen.LoadReport = field(default_factory=loadgen.LoadReport)
    idle: loadgen.IdleReport | None = None
    server_cpu_pct: float = 0.0
    clients_cpu_pct: float = 0.0
    database_cpu_pct: float | None = None
    machine_busy_pct: float = 0.0
    meter_samples: dict[str | None, int] | None = None

    @property
    def held(self) -> int:
        """Connections alive: booted, or (idle mode) still answering a ping."""
        return self.idle.answered_ping if self.idle else self.connect.booted

    @property
    def calls_per_s(self) -> float:
        return self.load.answered_in_window / self.window_s if self.window_s else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        """Server CPU milliseconds per call answered in the window (all its workers)."""
        answered = self.load.answered_in_window
        return (10 * self.server_cpu_pct * self.window_s / answered if answered
                else float("nan"))

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.load.latencies_ms)
        return ordered[round(fraction * (len(ordered) - 1))] if ordered else float("nan")

    @property
    def rss_per_connection_kb(self) -> float:
        held = self.held
        return (self.rss_connected_kb - self.rss_before_kb) / held if held else float("nan")


def _merge_connect(reports: list[loadgen.ConnectReport]) -> loadgen.ConnectReport:
    merged = loadgen.ConnectReport()
    for report in reports:
        merged.tried += report.tried
        merged.connected += report.connected
        merged.booted += report.booted
        merged.started += report.started
        merged.failures.update(report.failures)
    return merged


def _merge_load(reports: list[loadgen.LoadReport]) -> loadgen.LoadReport:
    merged = loadgen.LoadReport()
    for report in reports:
        merged.answered_total += report.answered_total
        merged.answered_in_window += report.answered_in_window
        merged.latencies_ms.extend(report.latencies_ms)
        merged.call_errors.update(report.call_errors)
        merged.timeouts += report.timeouts
        merged.dropped += report.dropped
        merged.cpu_seconds_in_window += report.cpu_seconds_in_window
    return merged


def _merge_idle(reports: list[loadgen.IdleReport]) -> loadgen.IdleReport:
    merged = loadgen.IdleReport()
    for report in reports:
        merged.open_after_hold += report.open_after_hold
        merged.answered_ping += report.answered_ping
        merged.dropped += report.dropped
    return merged


class ClientPool:
    """Load-generator processes (spawned, pinned, killed with the bench), one pipe each."""

    def __init__(self, plans: list[loadgen.Plan]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self.processes = []
        for number, plan in enumerate(plans):
            ours, theirs = context.Pipe()
            process = context.Process(target=loadgen.client_main, args=(plan, theirs),
                                      name=f"ocpp-load-client-{number}", daemon=True)
            self._pipes.append(ours)
            self.processes.append(process)

    def __enter__(self) -> ClientPool:
        for process in self.processes:
            process.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self.send_all(("close", None))
            self.gather("closed", 40.0)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)

    def send_all(self, message: tuple[str, Any]) -> None:
        for pipe in self._pipes:
            pipe.send(message)

    def gather(self, expected: str, timeout: float) -> list[Any]:
        """One ``(expected, payload)`` message from every client; payloads in order."""
        deadline = time.monotonic() + timeout
        answers: dict[int, Any] = {}
        while len(answers) < len(self._pipes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"load clients did not report {expected!r} in {timeout:.0f} s")
            waiting = [p for i, p in enumerate(self._pipes) if i not in answers]
            sentinels = [self.processes[i].sentinel for i in range(len(self._pipes))
                         if i not in answers]
            ready = wait(waiting + sentinels, timeout=remaining)
            for index, pipe in enumerate(self._pipes):
                if index in answers or pipe not in ready:
                    continue
                kind, payload = pipe.recv()
                if kind != expected:
                    raise RuntimeError(f"load client {index} said {kind!r}, not {expected!r}")
                answers[index] = payload
            for index, process in enumerate(self.processes):
                if index not in answers and process.sentinel in ready \
                        and not self._pipes[index].poll():
                    raise RuntimeError(f"load client {index} exited ({process.exitcode})")
        return [answers[i] for i in range(len(self._pipes))]


def _postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every process named ``postgres`` on this machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if (entry / "comm").read_text().strip() == "postgres":
                total += benchlib.cpu_seconds(int(entry.name))
    return total


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def measure(target: Target, ids: list[str], password: str, args: argparse.Namespace,
            client_cpus: set[int] | None, postgres: bool) -> Figures:
    """Connect every charger in ``ids`` to ``target``, then load it (or hold it idle), and
    return the figures. Bounded: connecting, loading and closing each have a deadline."""
    idle = args.idle is not None
    connect_timeout = 60.0 + 0.03 * len(ids)
    plans = [loadgen.Plan(target.ws_url, ids[i::args.clients], password,
                          start_transaction=not idle, cpus=client_cpus,
                          connect_timeout=connect_timeout, ocpp_version=args.ocpp)
             for i in range(min(args.clients, len(ids)))]
    figures = Figures(target.name, len(ids), loadgen.ConnectReport(),
                      rss_before_kb=target.rss_kb())
    print(f"[{target.name}] connecting {len(ids)} chargers from {len(plans)} client "
          f"processes …", flush=True)
    started = time.monotonic()
    with ClientPool(plans) as pool:
        figures.connect = _merge_connect(pool.gather("ready", connect_timeout + 60))
        print(f"[{target.name}] {figures.connect.booted} booted in "
              f"{time.monotonic() - started:.1f} s; failures: "
              f"{dict(figures.connect.failures) or 'none'}", flush=True)
        time.sleep(1.0)  # let queued writes (frame logs) settle before reading RSS
        figures.rss_connected_kb = target.rss_kb()
        figures.sockets = sum(benchlib.open_sockets(pid) for pid in target.pids)
        figures.fd_limit = benchlib.fd_limit(target.pids[0])
        if idle:
            hold_until = time.monotonic() + args.hold
            pool.send_all(("hold", hold_until))
            print(f"[{target.name}] holding them idle for {args.hold:.0f} s, then one ping "
                  "each …", flush=True)
            figures.idle = _merge_idle(pool.gather("ran", args.hold + 60))
        else:
            now = time.monotonic()
            window = loadgen.Window(start=now + 0.5, measure_from=now + 0.5 + args.warmup,
                                    until=now + 0.5 + args.warmup + args.seconds)
            pool.send_all(("load", window))
            print(f"[{target.name}] {_measured(args)} for {args.warmup:.0f} s warm-up + "
                  f"{args.seconds:.0f} s measured …", flush=True)
            _sleep_until(window.measure_from)
            cpu0, busy0 = target.cpu_seconds(), benchlib.machine_busy()
            db0 = _postgres_cpu_seconds() if postgres else 0.0
            _sleep_until(window.until)
            cpu1, busy1 = target.cpu_seconds(), benchlib.machine_busy()
            db1 = _postgres_cpu_seconds() if postgres else 0.0
            figures.window_s = window.until - window.measure_from
            figures.load = _merge_load(pool.gather("ran", 60.0))
            figures.server_cpu_pct = 100 * (cpu1 - cpu0) / figures.window_s
            figures.clients_cpu_pct = 100 * figures.load.cpu_seconds_in_window / figures.window_s
            figures.machine_busy_pct = 100 * (busy1[0] - busy0[0]) / (busy1[1] - busy0[1])
            if postgres:
                figures.database_cpu_pct = 100 * (db1 - db0) / figures.window_s
        figures.rss_after_kb = target.rss_kb()
    return figures


@contextlib.contextmanager
def voltspot_server(database_url: str, work_dir: Path, cpus: set[int] | None,
                    workers: int = 1, redis_url: str | None = None, *,
                    name: str | None = None, env: Mapping[str, str] | None = None
                    ) -> Iterator[tuple[Target, Path]]:
    """``python -m voltspot serve`` (``workers`` gevent workers, sharing ``redis_url`` when
    given) on a free port, stopped on exit. ``name`` tells several servers of one run apart
    (their logs and reports); ``env`` adds or overrides environment variables."""
    port = benchlib.free_port()
    environ = {**os.environ, "VOLTSPOT_DATABASE_URL": database_url,
               "VOLTSPOT_ENV": "development", "VOLTSPOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "VOLTSPOT_INSTANCE_DIR": str(work_dir),
               "VOLTSPOT_API_TOKEN": secrets.token_hex(16), "PYTHONUNBUFFERED": "1"}
    if redis_url:
        environ["VOLTSPOT_REDIS_URL"] = redis_url
    environ.update(env or {})
    log_path = work_dir / f"voltspot-server-{name or workers}.log"
    process = benchlib.start_process(
        [sys.executable, "-m", "voltspot", "serve", "--port", str(port),
         "--workers", str(workers)], environ, log_path, cpus)
    pids: list[int] = []
    try:
        benchlib.wait_until(lambda: benchlib.http_ok(f"http://127.0.0.1:{port}/healthz"),
                            process, 60, "voltspot serve")
        benchlib.wait_until(lambda: len(benchlib.children(process.pid)) >= workers, process,
                            30, "the gunicorn workers")
        pids = benchlib.children(process.pid)
        name = name or ("voltspot" if workers == 1 else f"voltspot×{workers}")
        yield Target(name, f"ws://127.0.0.1:{port}/ocpp", process.pid, tuple(pids)), log_path
    finally:
        benchlib.stop_process(process, tuple(pids))


@contextlib.contextmanager
def bare_server(work_dir: Path, cpus: set[int] | None) -> Iterator[Target]:
    """``bench/bare_csms.py`` on a free port, stopped on exit."""
    port = benchlib.free_port()
    script = Path(__file__).with_name("bare_csms.py")
    process = benchlib.start_process([sys.executable, str(script), "--port", str(port)],
                                     {**os.environ, "PYTHONUNBUFFERED": "1"},
                                     work_dir / "bare-server.log", cpus)
    try:
        benchlib.wait_until(lambda: benchlib.port_open(port), process, 30, "bare CSMS")
        yield Target("bare", f"ws://127.0.0.1:{port}/ocpp", process.pid)
    finally:
        benchlib.stop_process(process)


def _kb(value: float) -> str:
    return f"{value:,.1f}"


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.1f}"


def print_table(rows: list[tuple[str, Callable[[Any], str]]], runs: Sequence[Any]) -> None:
    width = max(len(label) for label, _ in rows) + 2
    print("".ljust(width) + "".join(f"{f.name:>18}" for f in runs))
    for label, cell in rows:
        print(label.ljust(width) + "".join(f"{cell(f):>18}" for f in runs))


def _failures(figures: Figures) -> str:
    failures = figures.connect.failures
    return ", ".join(f"{k}×{v}" for k, v in failures.most_common(3)) if failures else "none"


def _measured(args: argparse.Namespace) -> str:
    return loadgen.DIALECTS[args.ocpp].measured


def report_load(runs: list[Figures], voltspot_runs: int, measured: str) -> None:
    print_table([
        ("chargers booted / started", lambda f: f"{f.connect.booted}/{f.connect.started}"),
        (f"{measured} answered / s", lambda f: f"{f.calls_per_s:,.0f}"),
        ("latency p50 ms", lambda f: f"{f.percentile_ms(0.50):.1f}"),
        ("latency p99 ms", lambda f: f"{f.percentile_ms(0.99):.1f}"),
        ("latency max ms", lambda f: f"{f.percentile_ms(1.0):.1f}"),
        ("CallErrors", lambda f: str(sum(f.load.call_errors.values()))),
        ("timeouts", lambda f: str(f.load.timeouts)),
        ("dropped connections", lambda f: str(f.load.dropped)),
        ("connect failures", lambda f: str(sum(f.connect.failures.values()))),
        ("server CPU % (1 core=100)", lambda f: f"{f.server_cpu_pct:.0f}"),
        ("server CPU ms per call", lambda f: f"{f.cpu_ms_per_call:.3f}"),
        ("clients CPU % (1 core=100)", lambda f: f"{f.clients_cpu_pct:.0f}"),
        ("machine busy % (all cores)", lambda f: f"{f.machine_busy_pct:.0f}"),
        ("server RSS before MB", lambda f: _mb(f.rss_before_kb)),
        ("server RSS connected MB", lambda f: _mb(f.rss_connected_kb)),
        ("server RSS after load MB", lambda f: _mb(f.rss_after_kb)),
        ("RSS per connection KB", lambda f: _kb(f.rss_per_connection_kb)),
    ] + ([("PostgreSQL CPU % (1 core=100)",
           lambda f: "-" if f.database_cpu_pct is None else f"{f.database_cpu_pct:.0f}")]
         if any(f.database_cpu_pct is not None for f in runs) else []), runs)
    for figures in runs:
        if figures.load.call_errors or figures.connect.failures:
            print(f"{figures.name}: CallErrors {dict(figures.load.call_errors)}; connect "
                  f"failures {_failures(figures)}")
    voltspot = runs[voltspot_runs - 1]
    answered = sum(f.load.answered_total for f in runs[:voltspot_runs])
    expected_rows = SAMPLES_PER_CALL * answered
    if voltspot.meter_samples is not None:
        rows = voltspot.meter_samples.get(MEASURED_CONTEXT, 0)
        verdict = "OK" if rows == expected_rows else "MISMATCH"
        timeouts = sum(f.load.timeouts for f in runs[:voltspot_runs])
        print(f"persistence: meter_samples rows = {rows:,}; "
              f"{SAMPLES_PER_CALL} × {measured} answered ({answered:,}) "
              f"= {expected_rows:,}  → {verdict}"
              + (f" (calls that timed out, {timeouts}, may have been stored after all)"
                 if timeouts and rows != expected_rows else ""))
        others = {k: v for k, v in voltspot.meter_samples.items() if k != MEASURED_CONTEXT}
        if others:
            print("  not counted above (not the measured calls' context "
                  f"{MEASURED_CONTEXT}): " + ", ".join(f"{k}×{v:,}" for k, v in others.items()))


def report_idle(runs: list[Figures]) -> None:
    print_table([
        ("chargers tried", lambda f: str(f.connect.tried)),
        ("connected / booted", lambda f: f"{f.connect.connected}/{f.connect.booted}"),
        ("answering a ping after hold", lambda f: str(f.idle.answered_ping if f.idle else 0)),
        ("connect failures", lambda f: str(sum(f.connect.failures.values()))),
        ("server sockets held", lambda f: str(f.sockets)),
        ("server open files soft/hard", lambda f: f.fd_limit),
        ("server RSS before MB", lambda f: _mb(f.rss_before_kb)),
        ("server RSS connected MB", lambda f: _mb(f.rss_connected_kb)),
        ("server RSS after hold MB", lambda f: _mb(f.rss_after_kb)),
        ("RSS per connection KB", lambda f: _kb(f.rss_per_connection_kb)),
    ], runs)
    for figures in runs:
        if figures.connect.failures:
            print(f"{figures.name}: connect failures {_failures(figures)}")


@dataclass
class FleetFigures:
    """What one fleet run against one target measured."""

    name: str
    fleet: loadgen.Fleet
    report: loadgen.FleetReport = field(default_factory=loadgen.FleetReport)
    rss_before_kb: int = 0
    rss_connected_kb: int = 0
    storm_cpu_pct: float = 0.0
    steady_cpu_pct: float = 0.0
    machine_busy_pct: float = 0.0

    def ready_s(self, fraction: float) -> float:
        ordered = sorted(self.report.ready_s)
        return ordered[round(fraction * (len(ordered) - 1))] if ordered else float("nan")

    @property
    def ready_within_60s(self) -> int:
        return sum(1 for seconds in self.report.ready_s if seconds <= 60.0)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.report.latencies_ms)
        return ordered[round(fraction * (len(ordered) - 1))] if ordered else float("nan")

    @property
    def steady_s(self) -> float:
        return self.fleet.until - self.fleet.measure_from

    @property
    def calls_per_s(self) -> float:
        return self.report.answered / self.steady_s

    @property
    def cpu_ms_per_call(self) -> float:
        answered = self.report.answered
        return 10 * self.steady_cpu_pct * self.steady_s / answered if answered else float("nan")

    @property
    def internal_errors(self) -> int:
        return self.report.call_errors.get("InternalError", 0)

    @property
    def storm_margin_s(self) -> float:
        """Seconds from the last transaction start to the steady window; negative when the
        connection storm was still going once the window opened (its slow answers then
        count as steady-state latency: give more ``--settle``)."""
        if not self.report.last_ready_at:
            return float("nan")
        return self.fleet.measure_from - self.report.last_ready_at

    @property
    def rss_per_connection_kb(self) -> float:
        held = len(self.report.ready_s)
        return (self.rss_connected_kb - self.rss_before_kb) / held if held else float("nan")


def measure_fleet(target: Target, ids: list[str], password: str, args: argparse.Namespace,
                  client_cpus: set[int] | None) -> FleetFigures:
    """Run the fleet against ``target``: the storm over the ramp, then the steady state;
    server CPU is read at the start, when the steady state begins and when it ends."""
    now = time.monotonic()
    start = now + 3.0  # the client processes start meanwhile
    measure_from = start + args.ramp + args.settle
    fleet = loadgen.Fleet(chargers=len(ids), start=start, ramp_s=args.ramp,
                          measure_from=measure_from, until=measure_from + args.duration,
                          meter_every_s=args.meter_every,
                          heartbeat_every_s=args.heartbeat_every)
    clients = min(args.clients, len(ids))
    # A charger waits up to 60 s for each answer: the goal is an answer within 60 s.
    plans = [loadgen.Plan(target.ws_url, ids[i::clients], password, start_transaction=True,
                          cpus=client_cpus, call_timeout=60.0, ocpp_version=args.ocpp,
                          fleet=fleet, rank_start=i, rank_stride=clients)
             for i in range(clients)]
    figures = FleetFigures(target.name, fleet, rss_before_kb=target.rss_kb())
    print(f"[{target.name}] fleet of {len(ids)}: connecting over {args.ramp:.0f} s, settling "
          f"{args.settle:.0f} s, then {args.duration:.0f} s of steady state measured …",
          flush=True)
    with ClientPool(plans) as pool:
        _sleep_until(start)
        cpu0 = target.cpu_seconds()
        _sleep_until(measure_from)
        cpu1, busy1 = target.cpu_seconds(), benchlib.machine_busy()
        figures.rss_connected_kb = target.rss_kb()
        _sleep_until(fleet.until)
        cpu2, busy2 = target.cpu_seconds(), benchlib.machine_busy()
        reports = pool.gather("ran", 120.0)
    figures.storm_cpu_pct = 100 * (cpu1 - cpu0) / (measure_from - start)
    figures.steady_cpu_pct = 100 * (cpu2 - cpu1) / args.duration
    figures.machine_busy_pct = 100 * (busy2[0] - busy1[0]) / (busy2[1] - busy1[1])
    figures.report = _merge_fleet(reports)
    return figures


def _merge_fleet(reports: list[loadgen.FleetReport]) -> loadgen.FleetReport:
    merged = loadgen.FleetReport()
    merged.connect = _merge_connect([report.connect for report in reports])
    for report in reports:
        merged.ready_s.extend(report.ready_s)
        merged.last_ready_at = max(merged.last_ready_at, report.last_ready_at)
        merged.answered += report.answered
        merged.latencies_ms.extend(report.latencies_ms)
        merged.call_errors.update(report.call_errors)
        merged.timeouts += report.timeouts
        merged.dropped += report.dropped
    return merged


def report_fleet(runs: list[FleetFigures]) -> None:
    print_table([
        ("chargers tried", lambda f: str(f.report.connect.tried)),
        ("booted / transaction started", lambda f: f"{f.report.connect.booted}/"
                                                   f"{len(f.report.ready_s)}"),
        ("started within 60 s", lambda f: str(f.ready_within_60s)),
        ("socket → started p50 s", lambda f: f"{f.ready_s(0.5):.1f}"),
        ("socket → started p99 s", lambda f: f"{f.ready_s(0.99):.1f}"),
        ("socket → started max s", lambda f: f"{f.ready_s(1.0):.1f}"),
        ("connect failures", lambda f: str(sum(f.report.connect.failures.values()))),
        ("server CPU % in the storm", lambda f: f"{f.storm_cpu_pct:.0f}"),
        ("last start → steady window s", lambda f: f"{f.storm_margin_s:.1f}"),
        ("steady calls answered / s", lambda f: f"{f.calls_per_s:.1f}"),
        ("steady latency p50 ms", lambda f: f"{f.percentile_ms(0.50):.1f}"),
        ("steady latency p99 ms", lambda f: f"{f.percentile_ms(0.99):.1f}"),
        ("steady latency max ms", lambda f: f"{f.percentile_ms(1.0):.1f}"),
        ("steady server CPU % (1 core)", lambda f: f"{f.steady_cpu_pct:.1f}"),
        ("steady server CPU ms per call", lambda f: f"{f.cpu_ms_per_call:.2f}"),
        ("CallErrors (all)", lambda f: str(sum(f.report.call_errors.values()))),
        ("InternalError", lambda f: str(f.internal_errors)),
        ("timeouts", lambda f: str(f.report.timeouts)),
        ("dropped connections", lambda f: str(f.report.dropped)),
        ("machine busy % (steady)", lambda f: f"{f.machine_busy_pct:.0f}"),
        ("server RSS before MB", lambda f: _mb(f.rss_before_kb)),
        ("server RSS connected MB", lambda f: _mb(f.rss_connected_kb)),
        ("RSS per connection KB", lambda f: _kb(f.rss_per_connection_kb)),
    ], runs)
    for figures in runs:
        if figures.storm_margin_s < 0:
            print(f"{figures.name}: WARNING the last transaction started "
                  f"{-figures.storm_margin_s:.1f} s after the steady window opened: the "
                  "storm's slow answers count as steady latency (give more --settle)")
        if figures.report.call_errors or figures.report.connect.failures:
            failures = figures.report.connect.failures
            print(f"{figures.name}: CallErrors {dict(figures.report.call_errors)}; connect "
                  f"failures {dict(failures.most_common(3)) if failures else 'none'}")


def run_fleet(args: argparse.Namespace, database: benchdb.BenchDatabase, ids: list[str],
              password: str, server_cpus: set[int] | None, client_cpus: set[int] | None,
              split: str) -> str:
    """Fleet mode against Voltspot (each ``--workers``) and the bare library; returns the
    machine-readable last line."""
    started = time.monotonic()
    benchdb.register_stations(database.url, ids + [PRIMER_ID], password)
    print(f"database: {database.description}; {len(ids)} stations registered in "
          f"{time.monotonic() - started:.1f} s")
    print(f"cores: {split}; machine load average (1, 5, 15 min): {_load_average()}")
    runs: list[FleetFigures] = []
    for workers in args.workers:
        with voltspot_server(database.url, database.work_dir, server_cpus, workers,
                             args.redis_url) as (target, _log):
            asyncio.run(loadgen.prime(target.ws_url, PRIMER_ID, password, args.ocpp))
            time.sleep(1.0)
            runs.append(measure_fleet(target, ids, password, args, client_cpus))
    if not args.skip_bare:
        with bare_server(database.work_dir, server_cpus) as bare:
            asyncio.run(loadgen.prime(bare.ws_url, PRIMER_ID, password, args.ocpp))
            time.sleep(1.0)
            runs.append(measure_fleet(bare, ids, password, args, client_cpus))
    print(f"\n{loadgen.DIALECTS[args.ocpp].label} fleet: {len(ids)} chargers over "
          f"{args.ramp:.0f} s, MeterValues every {args.meter_every:.0f} s, Heartbeat every "
          f"{args.heartbeat_every:.0f} s, steady state {args.duration:.0f} s after "
          f"{args.settle:.0f} s settling; {args.clients} client processes; {split}; machine "
          f"load average now {_load_average()}")
    report_fleet(runs)
    voltspot = runs[0]
    bare_cpu = runs[len(args.workers)].steady_cpu_pct if not args.skip_bare else float("nan")
    version = "" if args.ocpp == "1.6" else f"ocpp={args.ocpp} "
    return (f"{version}fleet chargers={len(ids)} ready={len(voltspot.report.ready_s)} "
            f"ready_within_60s={voltspot.ready_within_60s} "
            f"ready_max_s={voltspot.ready_s(1.0):.1f} "
            f"storm_margin_s={voltspot.storm_margin_s:.1f} "
            f"steady_calls_per_s={voltspot.calls_per_s:.1f} "
            f"steady_p99_ms={voltspot.percentile_ms(0.99):.1f} "
            f"steady_cpu_pct={voltspot.steady_cpu_pct:.1f} "
            f"internal_errors={voltspot.internal_errors} "
            f"rss_per_connection_kb={voltspot.rss_per_connection_kb:.1f} "
            f"bare_steady_cpu_pct={bare_cpu:.1f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="OCPP load benchmark (prints figures; not a test).")
    parser.add_argument("--ocpp", choices=sorted(loadgen.DIALECTS), default="1.6",
                        help="the chargers' OCPP version (default 1.6): MeterValues (1.6) or "
                             "TransactionEvent Updated (2.0.1) is the measured call")
    parser.add_argument("--chargers", type=int, default=None,
                        help="chargers sending the measured call (default 1000; fleet mode "
                             "10000)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help=f"measured window in seconds, at most {MAX_SECONDS:.0f} (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of load before the window opens (default 3)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], metavar="N",
                        help="gunicorn workers of the Voltspot server, one run per number "
                             "given (default 1); more than 1 needs --redis-url")
    parser.add_argument("--redis-url", default=None,
                        help="Redis for the Voltspot server (VOLTSPOT_REDIS_URL)")
    parser.add_argument("--idle", type=int, default=None, metavar="N",
                        help="instead: hold N booted idle connections; report RSS per connection")
    parser.add_argument("--hold", type=float, default=10.0,
                        help="idle mode: seconds to hold the connections (default 10)")
    parser.add_argument("--fleet", action="store_true",
                        help="instead: a fleet connecting over --ramp seconds, then metering "
                             "and heartbeats at their intervals for --duration seconds")
    parser.add_argument("--ramp", type=float, default=30.0,
                        help="fleet mode: seconds over which the chargers connect (default 30)")
    parser.add_argument("--settle", type=float, default=60.0,
                        help="fleet mode: seconds after the ramp before the steady state is "
                             "measured (default 60)")
    parser.add_argument("--duration", type=float, default=300.0,
                        help="fleet mode: seconds of steady state measured (default 300)")
    parser.add_argument("--meter-every", type=float, default=60.0,
                        help="fleet mode: seconds between a charger's MeterValues (default 60)")
    parser.add_argument("--heartbeat-every", type=float, default=300.0,
                        help="fleet mode: seconds between a charger's heartbeats (default 300)")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh temporary SQLite file; a postgresql:// URL on "
                             "127.0.0.1 gets a new schema of its own in that database")
    parser.add_argument("--skip-bare", action="store_true",
                        help="do not run the bare asyncio + ocpp baseline")
    parser.add_argument("--clients", type=int, default=2,
                        help="load-generator processes (default 2)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server and the clients to separate cores")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (logs, SQLite file) and the schema")
    args = parser.parse_args(argv)
    if args.chargers is None:
        args.chargers = 10_000 if args.fleet else 1000
    count = args.idle if args.idle is not None else args.chargers
    if not 1 <= count <= MAX_CHARGERS:
        parser.error(f"the number of chargers must be 1 to {MAX_CHARGERS}")
    if not 1 <= args.seconds <= MAX_SECONDS or not 0 <= args.warmup <= 60:
        parser.error(f"--seconds must be 1 to {MAX_SECONDS:.0f}, --warmup 0 to 60")
    if not 0 <= args.hold <= MAX_SECONDS or not 1 <= args.clients <= 8:
        parser.error(f"--hold must be 0 to {MAX_SECONDS:.0f}, --clients 1 to 8")
    if args.fleet and args.idle is not None:
        parser.error("--fleet and --idle are different modes")
    if not (0 <= args.ramp <= MAX_SECONDS and 0 <= args.settle <= MAX_SECONDS
            and 1 <= args.duration <= 3600 and args.meter_every > 0
            and args.heartbeat_every > 0):
        parser.error(f"--ramp and --settle must be 0 to {MAX_SECONDS:.0f}, --duration 1 to "
                     "3600, the intervals above 0")
    if any(not 1 <= n <= 8 for n in args.workers):
        parser.error("--workers must be 1 to 8")
    if max(args.workers) > 1 and not args.redis_url:
        parser.error("more than one worker needs --redis-url (the workers share their "
                     "chargers through Redis)")
    return args


def _core_split(no_pin: bool) -> tuple[set[int] | None, set[int] | None, str]:
    cpus = sorted(os.sched_getaffinity(0))
    if no_pin or len(cpus) < 2:
        return None, None, f"not pinned: server and clients share {len(cpus)} core(s)"
    server, clients = {cpus[0]}, set(cpus[1:])
    return server, clients, (f"server pinned to CPU {cpus[0]}, load clients to CPU "
                             f"{','.join(map(str, cpus[1:]))} ({len(cpus)} cores in all)")


def run(args: argparse.Namespace) -> str:
    """Do the whole benchmark; return the machine-readable last line."""
    nofile = benchlib.raise_nofile_limit()
    server_cpus, client_cpus, split = _core_split(args.no_pin)
    idle = args.idle is not None
    count = args.idle if idle else args.chargers
    ids = [f"{STATION_PREFIX}{n:05d}" for n in range(1, count + 1)]
    password = secrets.token_urlsafe(18)
    database = benchdb.create_database(args.database_url, keep=args.keep)
    postgres = database.url.startswith("postgresql")
    if args.fleet:
        try:
            return run_fleet(args, database, ids, password, server_cpus, client_cpus, split)
        finally:
            database.drop()
    runs: list[Figures] = []
    try:
        started = time.monotonic()
        benchdb.register_stations(database.url, ids + [PRIMER_ID], password)
        print(f"database: {database.description}; {count} stations registered in "
              f"{time.monotonic() - started:.1f} s")
        print(f"cores: {split}" + ("; PostgreSQL not pinned" if postgres else ""))
        print(f"open files limit: {nofile} (bench and its children)")
        print(f"machine load average (1, 5, 15 min): {_load_average()}")
        for workers in args.workers:
            with voltspot_server(database.url, database.work_dir, server_cpus, workers,
                                 args.redis_url) as (target, log):
                asyncio.run(loadgen.prime(target.ws_url, PRIMER_ID, password, args.ocpp))
                time.sleep(1.0)
                figures = measure(target, ids, password, args, client_cpus, postgres)
                runs.append(figures)
            if args.keep:
                print(f"server log: {log}")
        if not idle:
            runs[-1].meter_samples = benchdb.count_meter_samples(database.url, STATION_PREFIX)
        if not args.skip_bare:
            with bare_server(database.work_dir, server_cpus) as bare:
                asyncio.run(loadgen.prime(bare.ws_url, PRIMER_ID, password, args.ocpp))
                time.sleep(1.0)
                runs.append(measure(bare, ids, password, args, client_cpus, False))
    finally:
        database.drop()
    mode = (f"idle: {count} chargers, held {args.hold:.0f} s" if idle else
            f"load: {count} chargers, warm-up {args.warmup:.0f} s, measured "
            f"{args.seconds:.0f} s, {_measured(args)} with {SAMPLES_PER_CALL} sampled values")
    print(f"\n{loadgen.DIALECTS[args.ocpp].label} {mode}; {args.clients} client processes; "
          f"{split}; machine load average now {_load_average()}")
    print("RSS 'before' is read after one priming charger came and went (lazy imports and "
          "caches warm); per connection = (connected - before) / connections held")
    voltspot = runs[0]
    version = "" if args.ocpp == "1.6" else f"ocpp={args.ocpp} "
    if idle:
        report_idle(runs)
        return (f"{version}idle_connections={voltspot.held} "
                f"rss_per_connection_kb={voltspot.rss_per_connection_kb:.1f}")
    voltspot_runs = len(args.workers)
    report_load(runs, voltspot_runs, _measured(args))
    bare = runs[voltspot_runs] if len(runs) > voltspot_runs else None
    bare_rate = bare.calls_per_s if bare else float("nan")
    bare_cpu = bare.cpu_ms_per_call if bare else float("nan")
    line = (f"{version}chargers={count} calls_per_s={voltspot.calls_per_s:.0f} "
            f"p99_ms={voltspot.percentile_ms(0.99):.1f} bare_calls_per_s={bare_rate:.0f} "
            f"ratio={_ratio(voltspot.calls_per_s, bare_rate):.2f} "
            f"cpu_ms_per_call={voltspot.cpu_ms_per_call:.3f} "
            f"bare_cpu_ms_per_call={bare_cpu:.3f} "
            f"cpu_ratio={_ratio(bare_cpu, voltspot.cpu_ms_per_call):.2f}")
    for workers, figures in zip(args.workers, runs, strict=False):
        line += (f" w{workers}_calls_per_s={figures.calls_per_s:.0f}"
                 f" w{workers}_p99_ms={figures.percentile_ms(0.99):.1f}"
                 f" w{workers}_cpu_ms_per_call={figures.cpu_ms_per_call:.3f}"
                 f" w{workers}_cpu_ratio={_ratio(bare_cpu, figures.cpu_ms_per_call):.2f}")
    return line


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; every server and client process is stopped on the way out,
    including on Ctrl-C, SIGTERM or an error."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    try:
        last_line = run(args)
    except KeyboardInterrupt:
        print("interrupted; servers and clients stopped", file=sys.stderr)
        return 130
    print(last_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
