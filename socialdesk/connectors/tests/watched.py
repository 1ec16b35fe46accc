"""For tests of watches (connectors.watching): the fetches a watch asks for, as
events a test can wait on instead of reading the database while the watch's
thread writes to it (SQLite's in-memory test database refuses that read)."""

import threading

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
