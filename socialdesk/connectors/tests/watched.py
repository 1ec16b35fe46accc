"""For tests of watches (connectors.watching): the fetches a watch asks for, as
events a test can wait on instead of reading the database while the watch's
thread writes to it (SQLite's in-memory test database refuses that read)."""

import threading
import time

from socialdesk.connectors import watching


def counted_fetches(monkeypatch, most: int = 10) -> list[threading.Event]:
    """Event n is set once the watch's fetch number n (from 0) is done; the last
    one stands for it and every later fetch."""
    done = [threading.Event() for _ in range(most)]
    count = [0]
    real = watching.do_hear_now

    def do_hear_now(account_id):
        try:
            return real(account_id)
        finally:
            done[min(count[0], most - 1)].set()
            count[0] += 1

    monkeypatch.setattr(watching, "do_hear_now", do_hear_now)
    return done


def first_failure(watcher, wait: float) -> int:
    """Start the watch, wait until it has failed once and a moment more (time for a
    second try, were it made at once), stop it; its failures then."""
    watcher.start()
    deadline = time.monotonic() + wait
    while watcher.failures == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    failures = watcher.failures
    watcher.stop()
    watcher.join(wait)
    return failures
