"""Run the application under gunicorn's gevent worker (``voltspot serve``)."""

from __future__ import annotations

import gc
import logging
import signal

from gunicorn.app.base import BaseApplication

from voltspot.config import ConfigError, Settings, load_settings


class VoltspotServer(BaseApplication):
    """gunicorn with the gevent worker; the app is built inside each worker, after gevent
    has patched the standard library."""

    def __init__(self, options: dict, app_config: dict | None = None) -> None:
        self._options = options
        self._app_config = app_config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from voltspot.app import create_app

        return create_app(self._app_config)


def _post_worker_init(worker) -> None:
    from voltspot.runtime import runtime

    # Ctrl-C in a terminal signals the whole process group: the master then stops each
    # worker itself. A worker quitting on its own SIGINT as well quits twice, and the second
    # time prints a SystemExit traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from voltspot.services.stations.registry import disconnect_all

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rt = runtime(worker.wsgi)
    if not rt.cluster.shared:
        # The only process holding sockets has just started: nobody is connected to it.
        # (With Redis other processes may hold sockets; the presence sweep finds the
        # stations of processes that died.)
        disconnect_all(rt.db)
    rt.cluster.start()
    rt.start_housekeeping(rt.settings.housekeeping_interval)
    # Objects alive after start-up stay; freezing them keeps the collector from scanning
    # them again and again (measured: 400 ms pauses at 10 000 sockets without it).
    gc.freeze()
    logging.getLogger("voltspot").info("worker %s ready", worker.pid)


def _worker_exit(server, worker) -> None:
    from voltspot.runtime import runtime

    # Hand stations and jobs over now rather than when their records expire.
    try:
        runtime(worker.wsgi).cluster.stop()
    except Exception:  # noqa: BLE001 - leaving anyway; the records expire on their own
        logging.getLogger("voltspot").exception("could not leave the cluster cleanly")


def check_workers(settings: Settings, workers: int) -> None:
    """Raise :class:`~voltspot.config.ConfigError` for several workers without Redis: only
    the process holding a charger's socket could command it."""
    if workers > 1 and not settings.redis_url:
        raise ConfigError(f"--workers {workers} needs Redis: set VOLTSPOT_REDIS_URL "
                          "(without it, serve with one worker)")


def serve(host: str, port: int, workers: int, app_config: dict | None = None,
          worker_connections: int = 20000) -> None:
    """Serve until stopped. ``worker_connections`` must exceed the chargers per worker.

    Raises :class:`~voltspot.config.ConfigError` for several workers without Redis: only
    the process holding a charger's socket could command it."""
    settings = load_settings(app_config)
    check_workers(settings, workers)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gevent",
        "worker_connections": worker_connections,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "loglevel": "info",
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        "errorlog": "-",
        # gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl):
        # several Voltspot processes on one machine would take it from one another.
        "control_socket_disable": True,
    }
    VoltspotServer(options, app_config).run()
