"""One charger cannot exhaust the server: a client that keeps sending and never reads its
answers is slowed down (the server stops reading its socket), holds a bounded amount of
memory, is closed when it leaves its answers unread or keeps its call rate up, with a log
line naming it, and never stalls the others."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from pathlib import Path

from tests.factories import make_station
from tests.support.raw_charger import RawCharger

FRAMES = 20000
PADDING_BYTES = 1500  # ~40 MB of text in all, random: permessage-deflate cannot shrink it
MAX_GROWTH_KB = 30 * 1024


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _worker(server) -> int:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return int(children.read_text().split()[0])


def test_a_client_that_never_reads_holds_bounded_memory_and_is_closed(
        server, station, db, record_property):
    worker = _worker(server)
    before = _rss_kb(worker)
    flooder = RawCharger(server.ws_url, station.charge_point_id, station.password)
    sent = []
    stop = threading.Event()
    rng = random.Random(11)
    # Distinct random paddings, more than permessage-deflate's 32 KiB window holds, made
    # beforehand: the client must send faster than any server answers.
    paddings = [base64.b64encode(rng.randbytes(PADDING_BYTES)).decode() for _ in range(64)]

    def flood() -> None:
        try:
            for n in range(FRAMES):
                if stop.is_set():
                    return
                flooder.send_raw(json.dumps([2, f"f{n}", "DataTransfer",
                                             {"vendorId": "flood", "data": paddings[n % 64]}]))
                sent.append(n)
        except Exception:  # noqa: BLE001 - the server closing on us ends the flood
            return

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    time.sleep(3)
    other = make_station(db, connectors=1, charge_point_id=station.charge_point_id + "-ok")
    with RawCharger(server.ws_url, other.charge_point_id, other.password) as good:
        started = time.monotonic()
        assert good.boot()["status"] == "Accepted"
        assert time.monotonic() - started < 1
    closed = f"{station.charge_point_id}: disconnected"
    peak = before
    deadline = time.monotonic() + 45
    while closed not in server.log() and time.monotonic() < deadline:
        peak = max(peak, _rss_kb(worker))
        time.sleep(0.2)
    stop.set()
    flooder.ws.socket.close()
    thread.join(timeout=10)
    record_property("frames_sent", len(sent))
    record_property("worker_rss_growth_kb", peak - before)
    # Whichever bound it met first: its answers left unread (the server then reads
    # nothing more from it), or its sustained call rate.
    assert (f"{station.charge_point_id}: has not read what we sent for 30 s" in server.log()
            or f"{station.charge_point_id}: more than 200 calls a second" in server.log())
    assert closed in server.log()
    assert len(sent) < FRAMES
    assert peak - before < MAX_GROWTH_KB, f"worker grew by {(peak - before) // 1024} MB"
