"""OCPP load benchmark: how many meter-value calls per second one Voltspot process answers
(durably), at what latency and memory per connection, against a bare asyncio + ocpp
central system of the same OCPP version on the same machine and load. Prints figures; it
is not a test.

Load mode (default): N chargers connect (Basic auth), boot, start one transaction and send
the measured call (4 sampled values) back to back, each waiting for its answer, for a
warm-up and then ``--seconds`` measured. With ``--ocpp 1.6`` (default) that is MeterValues
after StartTransaction; with ``--ocpp 2.0.1`` it is TransactionEvent Updated after a
StatusNotification (Occupied) and TransactionEvent Started with the bench's card and a
charger-chosen transaction id. Idle mode (``--idle N``): N chargers connect and boot, stay
idle, then answer a ping; how many the server holds and its RSS per connection are reported.

    .venv/bin/python bench/ocpp_load.py [--ocpp 2.0.1] [--chargers 1000] [--seconds 20]
    .venv/bin/python bench/ocpp_load.py --idle 10000
    .venv/bin/python bench/ocpp_load.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The last line is machine-readable:
``chargers=N calls_per_s=X p99_ms=Y bare_calls_per_s=Z ratio=R`` (load) or
``idle_connections=N rss_per_connection_kb=K`` (idle), led by ``ocpp=2.0.1`` for 2.0.1.
Traffic goes to 127.0.0.1 only.
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
from collections.abc import Callable, Iterator
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
                      rss_before_kb=benchlib.rss_kb(target.pid))
    print(f"[{target.name}] connecting {len(ids)} chargers from {len(plans)} client "
          f"processes …", flush=True)
    started = time.monotonic()
    with ClientPool(plans) as pool:
        figures.connect = _merge_connect(pool.gather("ready", connect_timeout + 60))
        print(f"[{target.name}] {figures.connect.booted} booted in "
              f"{time.monotonic() - started:.1f} s; failures: "
              f"{dict(figures.connect.failures) or 'none'}", flush=True)
        time.sleep(1.0)  # let queued writes (frame logs) settle before reading RSS
        figures.rss_connected_kb = benchlib.rss_kb(target.pid)
        figures.sockets = benchlib.open_sockets(target.pid)
        figures.fd_limit = benchlib.fd_limit(target.pid)
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
            cpu0, busy0 = benchlib.cpu_seconds(target.pid), benchlib.machine_busy()
            db0 = _postgres_cpu_seconds() if postgres else 0.0
            _sleep_until(window.until)
            cpu1, busy1 = benchlib.cpu_seconds(target.pid), benchlib.machine_busy()
            db1 = _postgres_cpu_seconds() if postgres else 0.0
            figures.window_s = window.until - window.measure_from
            figures.load = _merge_load(pool.gather("ran", 60.0))
            figures.server_cpu_pct = 100 * (cpu1 - cpu0) / figures.window_s
            figures.clients_cpu_pct = 100 * figures.load.cpu_seconds_in_window / figures.window_s
            figures.machine_busy_pct = 100 * (busy1[0] - busy0[0]) / (busy1[1] - busy0[1])
            if postgres:
                figures.database_cpu_pct = 100 * (db1 - db0) / figures.window_s
        figures.rss_after_kb = benchlib.rss_kb(target.pid)
    return figures


@contextlib.contextmanager
def voltspot_server(database_url: str, work_dir: Path, cpus: set[int] | None
                    ) -> Iterator[tuple[Target, Path]]:
    """``python -m voltspot serve`` (one gevent worker) on a free port, stopped on exit."""
    port = benchlib.free_port()
    env = {**os.environ, "VOLTSPOT_DATABASE_URL": database_url, "VOLTSPOT_ENV": "development",
           "VOLTSPOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "VOLTSPOT_INSTANCE_DIR": str(work_dir), "VOLTSPOT_API_TOKEN": secrets.token_hex(16),
           "PYTHONUNBUFFERED": "1"}
    log_path = work_dir / "voltspot-server.log"
    process = benchlib.start_process(
        [sys.executable, "-m", "voltspot", "serve", "--port", str(port), "--workers", "1"],
        env, log_path, cpus)
    workers: list[int] = []
    try:
        benchlib.wait_until(lambda: benchlib.http_ok(f"http://127.0.0.1:{port}/healthz"),
                            process, 60, "voltspot serve")
        benchlib.wait_until(lambda: bool(benchlib.children(process.pid)), process, 10,
                            "the gunicorn worker")
        workers = benchlib.children(process.pid)
        yield Target("voltspot", f"ws://127.0.0.1:{port}/ocpp", workers[0]), log_path
    finally:
        benchlib.stop_process(process, tuple(workers))


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


def print_table(rows: list[tuple[str, Callable[[Figures], str]]], runs: list[Figures]) -> None:
    width = max(len(label) for label, _ in rows) + 2
    print("".ljust(width) + "".join(f"{f.name:>18}" for f in runs))
    for label, cell in rows:
        print(label.ljust(width) + "".join(f"{cell(f):>18}" for f in runs))


def _failures(figures: Figures) -> str:
    failures = figures.connect.failures
    return ", ".join(f"{k}×{v}" for k, v in failures.most_common(3)) if failures else "none"


def _measured(args: argparse.Namespace) -> str:
    return loadgen.DIALECTS[args.ocpp].measured


def report_load(runs: list[Figures], expected_rows: int | None, measured: str) -> None:
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
    voltspot = runs[0]
    if voltspot.meter_samples is not None and expected_rows is not None:
        rows = voltspot.meter_samples.get(MEASURED_CONTEXT, 0)
        verdict = "OK" if rows == expected_rows else "MISMATCH"
        print(f"persistence: meter_samples rows = {rows:,}; "
              f"{SAMPLES_PER_CALL} × {measured} answered ({voltspot.load.answered_total:,}) "
              f"= {expected_rows:,}  → {verdict}")
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="OCPP load benchmark (prints figures; not a test).")
    parser.add_argument("--ocpp", choices=sorted(loadgen.DIALECTS), default="1.6",
                        help="the chargers' OCPP version (default 1.6): MeterValues (1.6) or "
                             "TransactionEvent Updated (2.0.1) is the measured call")
    parser.add_argument("--chargers", type=int, default=1000,
                        help="chargers sending the measured call (default 1000)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help=f"measured window in seconds, at most {MAX_SECONDS:.0f} (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of load before the window opens (default 3)")
    parser.add_argument("--idle", type=int, default=None, metavar="N",
                        help="instead: hold N booted idle connections; report RSS per connection")
    parser.add_argument("--hold", type=float, default=10.0,
                        help="idle mode: seconds to hold the connections (default 10)")
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
    count = args.idle if args.idle is not None else args.chargers
    if not 1 <= count <= MAX_CHARGERS:
        parser.error(f"the number of chargers must be 1 to {MAX_CHARGERS}")
    if not 1 <= args.seconds <= MAX_SECONDS or not 0 <= args.warmup <= 60:
        parser.error(f"--seconds must be 1 to {MAX_SECONDS:.0f}, --warmup 0 to 60")
    if not 0 <= args.hold <= MAX_SECONDS or not 1 <= args.clients <= 8:
        parser.error(f"--hold must be 0 to {MAX_SECONDS:.0f}, --clients 1 to 8")
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
    runs: list[Figures] = []
    try:
        started = time.monotonic()
        benchdb.register_stations(database.url, ids + [PRIMER_ID], password)
        print(f"database: {database.description}; {count} stations registered in "
              f"{time.monotonic() - started:.1f} s")
        print(f"cores: {split}" + ("; PostgreSQL not pinned" if postgres else ""))
        print(f"open files limit: {nofile} (bench and its children)")
        with voltspot_server(database.url, database.work_dir, server_cpus) as (target, log):
            asyncio.run(loadgen.prime(target.ws_url, PRIMER_ID, password, args.ocpp))
            time.sleep(1.0)
            figures = measure(target, ids, password, args, client_cpus, postgres)
            runs.append(figures)
        if args.keep:
            print(f"server log: {log}")
        if not idle:
            figures.meter_samples = benchdb.count_meter_samples(database.url, STATION_PREFIX)
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
          f"{split}")
    print("RSS 'before' is read after one priming charger came and went (lazy imports and "
          "caches warm); per connection = (connected - before) / connections held")
    voltspot = runs[0]
    version = "" if args.ocpp == "1.6" else f"ocpp={args.ocpp} "
    if idle:
        report_idle(runs)
        return (f"{version}idle_connections={voltspot.held} "
                f"rss_per_connection_kb={voltspot.rss_per_connection_kb:.1f}")
    report_load(runs, SAMPLES_PER_CALL * voltspot.load.answered_total, _measured(args))
    bare_rate = runs[1].calls_per_s if len(runs) > 1 else float("nan")
    ratio = voltspot.calls_per_s / bare_rate if bare_rate else float("nan")
    return (f"{version}chargers={count} calls_per_s={voltspot.calls_per_s:.0f} "
            f"p99_ms={voltspot.percentile_ms(0.99):.1f} bare_calls_per_s={bare_rate:.0f} "
            f"ratio={ratio:.2f}")


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
