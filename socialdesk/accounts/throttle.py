"""Login and API-token throttling that cannot be turned against the people it protects.

A throttle that refuses the right credential is a lock anyone can turn: twenty junk
tokens, or five wrong passwords for someone's username, would shut a whole office out,
the admin included, and behind a proxy everyone. So what is throttled is guessing, and
a lockout only ever refuses the guesser's own kind of attempt:

- A valid API token is always accepted. It is looked up first (a hash and one indexed
  query); only a token that matches nothing counts, against the address it came from.
  After LOGIN_FAILURES_PER_IP bad tokens from one address within
  LOGIN_FAILURE_WINDOW_MINUTES, bad tokens from there are answered 429 for
  LOGIN_LOCKOUT_MINUTES and are no longer written down, so a flood costs two indexed
  reads a request. Tokens are 256 random bits that nobody guesses: this limit is about
  load, and about telling a client with a revoked token to stop.

- Passwords count per username *and* address. After LOGIN_FAILURES_PER_USER failures for
  a username from one address, that username is refused from that address for
  LOGIN_LOCKOUT_MINUTES, before its password is checked. From anywhere else it is
  not: failures can lock no username out of every address.

- An address has a budget too, for a guesser who tries a few passwords on each of many
  usernames. After LOGIN_FAILURES_PER_IP failed logins from one address (any usernames)
  within the window, for LOGIN_LOCKOUT_MINUTES every username that has already failed
  from there is refused there unchecked. A username that has not is still checked, and
  its right password logs in: the people behind a guesser's address keep working, while
  the guesser gets one try at each further username instead of LOGIN_FAILURES_PER_USER.

What this leaves, knowingly. Someone behind the same address who guesses at one person's
password locks that person out from that address (and only there): the two cannot be
told apart. An attacker with many addresses gets LOGIN_FAILURES_PER_USER guesses from
each; a lock on the username would stop that, but would be a lock on its owner too, so
the password rules (ten characters at least, none of the common ones) are what make
those guesses hopeless.

A successful login clears its username's failures from that address; the address's
count stays, so one right password does not buy another round of guesses. The state is
rows in the database, so every web process of the scale-out mode counts the same
failures. Failed logins and bad tokens are counted apart: an integration polling with a
revoked token does not use up the login budget of the office it runs in.

The address is REMOTE_ADDR, unless that is one of TRUSTED_PROXY_ADDRESSES (client_ip).
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socialdesk.accounts.models import LoginAttempt
from socialdesk.audit.actions import do_record

LOGIN = LoginAttempt.Kind.LOGIN
TOKEN = LoginAttempt.Kind.TOKEN
PAIR = "pair"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Lockout:
    # PAIR (one username from one address), LOGIN (an address's failed logins, for the
    # usernames that failed from it) or TOKEN (an address's bad API tokens).
    scope: str
    until: datetime

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(1, math.ceil((self.until - (now or timezone.now())).total_seconds()))

    @property
    def message(self) -> str:
        minutes = math.ceil(self.seconds_left() / 60)
        wait = f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
        if self.scope == PAIR:
            return (f"Too many failed logins for this username from your network address: "
                    f"{wait}.")
        if self.scope == LOGIN:
            return f"Too many failed logins from your network address: for this username, {wait}."
        return (f"Too many failed API tokens from your network address: {wait}. "
                "A valid token is still accepted.")


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _lock_time() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def normalize(username: str) -> str:
    # "Alice" and "alice " must not be two budgets of guesses. A NUL, which no username
    # has and PostgreSQL refuses in text, goes.
    return (username or "").replace("\x00", "").strip().lower()[:150]


# --------------------------------------------------------------------------
# The client's address
# --------------------------------------------------------------------------

def _parse(value: str) -> Address | None:
    value = value.strip()
    # Some proxies write the port too: "192.0.2.1:51234", "[2001:db8::1]:443".
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; it is the same peer.
    return getattr(address, "ipv4_mapped", None) or address


@lru_cache(maxsize=4)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network,
                                              ...]:
    return tuple(ipaddress.ip_network(network) for network in spec)


def _is_trusted_proxy(address: Address | None) -> bool:
    return address is not None and any(
        address in network for network in _networks(tuple(settings.TRUSTED_PROXY_ADDRESSES)))


def from_trusted_proxy(request) -> bool:
    """Whether the request's peer is one of TRUSTED_PROXY_ADDRESSES, so that the
    X-Forwarded-* headers on it were written, or passed on, by a proxy."""
    return _is_trusted_proxy(_parse(request.META.get("REMOTE_ADDR", "")))


def client_ip(request) -> str | None:
    """The address the request came from: REMOTE_ADDR, unless that is a trusted proxy.

    Then X-Forwarded-For, to which each proxy appends the address it saw, is read from the
    right: past every trusted proxy, to the first address that is not one. Whatever lies
    left of that was written by the client and is never read. An entry that is not an
    address stops the walk at the proxy that passed it on."""
    address = _parse(request.META.get("REMOTE_ADDR", ""))
    if _is_trusted_proxy(address):
        for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            if not entry.strip():
                continue
            hop = _parse(entry)
            if hop is None:
                break
            address = hop
            if not _is_trusted_proxy(hop):
                break
    return str(address) if address is not None else None


# --------------------------------------------------------------------------
# Failures and lockouts
# --------------------------------------------------------------------------

def _lockouts(now: datetime):
    return LoginAttempt.objects.filter(kind=LoginAttempt.Kind.LOCKOUT, until__gt=now)


def _failures(kind: str, now: datetime):
    return LoginAttempt.objects.filter(kind=kind, at__gt=now - _window())


def _failed_from(username: str, ip: str | None, now: datetime):
    """This username's failures from this address that still count against it."""
    return _failures(LOGIN, now).filter(username=username, ip=ip, counts_for_user=True)


def current_lockout(kind: str, username: str, ip: str | None,
                    now: datetime | None = None) -> Lockout | None:
    """What refuses this attempt now, if anything (the lockout that ends last).

    A login: the lockout of this username from this address, or that of the address
    when this username has failed from it; the password is then not checked. A token:
    the lockout of the address's bad tokens, which refuses only a token that matched
    nothing, so the caller looks the token up first."""
    now = now or timezone.now()
    if kind == TOKEN:
        row = (_lockouts(now).filter(scope=TOKEN, ip=ip).order_by("-until").first()
               if ip else None)
        return Lockout(row.scope, row.until) if row else None
    username = normalize(username)
    wanted = Q(scope=PAIR, username=username, ip=ip) if username else Q(pk__in=[])
    if ip:
        wanted |= Q(scope=LOGIN, ip=ip)
    rows = list(_lockouts(now).filter(wanted))
    applies = [row for row in rows if row.scope == PAIR]
    if len(applies) < len(rows) and _failed_from(username, ip, now).exists():
        applies = rows
    row = max(applies, key=lambda row: row.until, default=None)
    return Lockout(row.scope, row.until) if row else None


@transaction.atomic
def do_record_failure(kind: str, username: str, ip: str | None,
                      now: datetime | None = None) -> Lockout | None:
    """Note one failed login (or bad API token). Returns the lockout that now refuses
    the same attempt, if any, so that the failure which starts one is answered like
    the attempts it will refuse. Each lockout started is an audit event."""
    now = now or timezone.now()
    username = normalize(username) if kind == LOGIN else ""
    LoginAttempt.objects.create(kind=kind, username=username, ip=ip, at=now)
    failures = _failures(kind, now)
    if username and _failed_from(username, ip, now).count() >= settings.LOGIN_FAILURES_PER_USER:
        _do_lock(PAIR, username, ip, now)
    if ip and failures.filter(ip=ip).count() >= settings.LOGIN_FAILURES_PER_IP:
        _do_lock(kind, "", ip, now)
    do_prune_attempts(now)
    return current_lockout(kind, username, ip, now)


def _do_lock(scope: str, username: str, ip: str | None, now: datetime) -> None:
    if _lockouts(now).filter(scope=scope, username=username, ip=ip).exists():
        return
    until = now + _lock_time()
    LoginAttempt.objects.create(kind=LoginAttempt.Kind.LOCKOUT, scope=scope, username=username,
                                ip=ip, at=now, until=until)
    limit = settings.LOGIN_FAILURES_PER_USER if scope == PAIR else settings.LOGIN_FAILURES_PER_IP
    do_record("auth.locked_out", at=now, scope=scope, username=username or None, ip=ip,
              until=until.isoformat(), failures=limit,
              window_minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def do_clear_failures(username: str, ip: str | None) -> None:
    """A successful login: the username's failures from this address stop counting
    against it. Those from other addresses were someone else's, and the address's own
    count stays: one right password must not buy another round of guesses."""
    _failed_from(normalize(username), ip, timezone.now()).update(counts_for_user=False)


def do_prune_attempts(now: datetime | None = None) -> int:
    """Delete what no longer counts: failures older than the window, lockouts over.
    Run on each failure, so the table holds at most one window of them."""
    now = now or timezone.now()
    old = now - max(_window(), _lock_time())
    deleted, _ = LoginAttempt.objects.filter(
        Q(until__isnull=True) | Q(until__lte=now), at__lt=old).delete()
    return deleted
