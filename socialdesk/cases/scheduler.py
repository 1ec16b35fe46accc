"""The clock for the embedded mode: a daemon thread that runs the periodic tick in the
web process, where no Celery beat is running."""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_TICK = "socialdesk.cases.clock.tick"
DEFAULT_INTERVAL_SECONDS = 30


class ClockThread(threading.Thread):
    """Calls `func` (the desk's tick unless given) every `interval` seconds until `stop()`.

    Runs start on a fixed cadence: a slow run shortens the following wait rather
    than pushing every later run back.
    """

    def __init__(self, func: Callable[[], object] | None = None,
                 interval: float | None = None, name: str = "socialdesk-clock"):
        super().__init__(name=name, daemon=True)
        self._func = func
        if interval is None:
            interval = getattr(settings, "CLOCK_INTERVAL_SECONDS", DEFAULT_INTERVAL_SECONDS)
        self.interval = interval
        # Not `_stop`: threading.Thread has a method of that name.
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.run_once()
            self._stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def run_once(self) -> None:
        try:
            # Imported here, on first use: the tick's module imports models, which
            # are not ready when the thread is created during start-up.
            if self._func is None:
                self._func = import_string(DEFAULT_TICK)
            self._func()
        except Exception:
            # A locked database or one bad row must not stop the clock for good.
            logger.exception("the clock tick failed; trying again in %s s", self.interval)
        finally:
            # This thread's own connections: a long-lived one would hold SQLite's
            # snapshot and outlive PostgreSQL restarts.
            connections.close_all()
