"""Hearing at once where the platform says when something arrives (IMAP IDLE; any
listener that implements connectors.base.Watches).

`Watchers` keeps one thread per active account whose listener can watch. The
thread holds the platform's connection and, when told of news, has the account
fetched at once by the clock's own path (listening.do_hear_now: the same claim,
checkpoint and import), so a watch never reads anything twice, skips anything
or stores anything itself. Polling goes on underneath at the account's
interval: a watch that fails costs speed, not posts, and is tried again with a
growing wait. Runs in `socialdesk serve` (embedded) and in `socialdesk
scheduler` (scale-out, where the fetch goes to a worker); WATCH_ACCOUNTS=false
turns it off.
"""

import json
import logging
import threading
import time

from django.db import connections

from socialdesk.connectors.base import ConnectorError, Watches
from socialdesk.connectors.listening import do_hear_now
from socialdesk.connectors.models import ChannelAccount
from socialdesk.connectors.registry import listener_for

logger = logging.getLogger(__name__)

# Seconds between looks at which accounts to watch: connected, paused, removed or
# changed ones are picked up within this long.
REFRESH_SECONDS = 30
# A watch that failed is tried again after RETRY_SECONDS, doubling each time up to
# MAX_RETRY_SECONDS (at once the maximum where the platform cannot be watched).
RETRY_SECONDS, MAX_RETRY_SECONDS = 5, 600
# News while another fetch holds the account is tried again this often, for at most
# this long (then the account's next poll hears it).
BUSY_RETRY_SECONDS, BUSY_GIVE_UP_SECONDS = 1.0, 120.0


class Watchers(threading.Thread):
    """Watches every active account whose listener can watch, a thread each."""

    def __init__(self, refresh: float = REFRESH_SECONDS):
        super().__init__(name="socialdesk-watchers", daemon=True)
        self.refresh = refresh
        self.stopping = threading.Event()
        self.watching: dict[int, AccountWatcher] = {}

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.look()
            except Exception:  # a locked or unreachable database: look again later
                logger.exception("looking for accounts to watch failed; again in %s s",
                                 self.refresh)
            finally:
                connections.close_all()
            self.stopping.wait(self.refresh)
        for watcher in self.watching.values():
            watcher.stop()

    def look(self) -> None:
        """Start watching new accounts; stop watching those paused, removed or changed
        (a changed one is watched again with its new settings)."""
        wanted = {}
        for account in ChannelAccount.objects.filter(is_active=True).exclude(listener=""):
            if listener := watch_of(account):
                wanted[account.pk] = (account, listener)
        for pk, watcher in list(self.watching.items()):
            if pk not in wanted or _version(wanted[pk][0]) != watcher.version \
                    or not watcher.is_alive():
                watcher.stop()
                del self.watching[pk]
        for pk, (account, listener) in wanted.items():
            if pk not in self.watching:
                self.watching[pk] = AccountWatcher(account, listener)
                self.watching[pk].start()


def watch_of(account: ChannelAccount) -> Watches | None:
    """The account's listener where it can watch; None where the account is only
    polled (or its connector is unknown, which its polls report)."""
    if not account.listener:
        return None
    try:
        listener = listener_for(account)
    except ConnectorError:
        return None
    return listener if isinstance(listener, Watches) else None


def _version(account: ChannelAccount) -> tuple:
    # What a watch connects with: its listener, settings and (encrypted) credentials.
    return account.listener, json.dumps(account.config, sort_keys=True), account.credentials


class AccountWatcher(threading.Thread):
    """One account's watch, connected again after each failure."""

    def __init__(self, account: ChannelAccount, listener: Watches):
        super().__init__(name=f"socialdesk-watch-{account.pk}", daemon=True)
        self.account, self.listener, self.version = account, listener, _version(account)
        self.stopping = threading.Event()
        self.failures = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.listener.watch(self.account, self.stopping, self.woke)
                continue  # ended by a stop
            except ConnectorError as e:
                error, permanent = e, e.kind != ConnectorError.RETRYABLE
            except Exception as e:  # noqa: BLE001 - a bug must not end the watch for good
                logger.exception("watching %s failed", self.account)
                error, permanent = e, False
            if time.monotonic() - started > MAX_RETRY_SECONDS:
                self.failures = 0  # it had worked for a while: a new run of failures
            self.failures += 1
            wait = MAX_RETRY_SECONDS if permanent else \
                min(MAX_RETRY_SECONDS, RETRY_SECONDS * 2 ** (self.failures - 1))
            if not self.stopping.is_set():
                logger.warning("watching %s stopped (%s); polled only, watched again in %s s",
                               self.account, error, wait)
            self.stopping.wait(wait)

    def woke(self) -> None:
        """News: the account is fetched now, or as soon as the fetch under way ends."""
        give_up = time.monotonic() + BUSY_GIVE_UP_SECONDS
        try:
            while not self.stopping.is_set() and not do_hear_now(self.account.pk):
                if time.monotonic() > give_up:
                    break
                self.stopping.wait(BUSY_RETRY_SECONDS)
        except Exception:  # noqa: BLE001 - the account's poll hears it instead
            logger.exception("fetching %s on the platform's news failed", self.account)
        finally:
            # This thread's own connections, as the clock closes its own.
            connections.close_all()
