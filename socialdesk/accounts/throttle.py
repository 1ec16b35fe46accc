"""Login throttling: too many failures for a username or from one address lock it out.

After LOGIN_FAILURES_PER_USER failed logins for a username, or LOGIN_FAILURES_PER_IP
from one address (failed API tokens count separately, per address), within
LOGIN_FAILURE_WINDOW_MINUTES, further attempts are refused for LOGIN_LOCKOUT_MINUTES,
even with the right password. The state is rows in the database, so every web
process of the scale-out mode counts the same failures.

Failed logins and failed tokens are counted apart: an integration polling with a
revoked token must not lock the people in the same office out of the login page.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socialdesk.accounts.models import LoginAttempt
from socialdesk.audit.actions import do_record

LOGIN = LoginAttempt.Kind.LOGIN
TOKEN = LoginAttempt.Kind.TOKEN
USERNAME = "username"


@dataclass(frozen=True)
class Lockout:
    scope: str  # USERNAME, LOGIN (an address's logins) or TOKEN (an address's tokens)
    until: datetime

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(1, math.ceil((self.until - (now or timezone.now())).total_seconds()))

    @property
    def message(self) -> str:
        minutes = math.ceil(self.seconds_left() / 60)
        what = {USERNAME: "failed logins for this username",
                LOGIN: "failed logins from your network address",
                TOKEN: "failed API tokens from your network address"}[self.scope]
        return (f"Too many {what}: try again in {minutes} minute{'s' if minutes != 1 else ''}. "
                "Until then even the right password is refused.")


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _lock_time() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def normalize(username: str) -> str:
    # "Alice" and "alice " must not be two budgets of guesses. A NUL, which no username
    # has and PostgreSQL refuses in text, goes.
    return (username or "").replace("\x00", "").strip().lower()[:150]


def client_ip(request) -> str | None:
    """The address the request came from. Behind TRUSTED_PROXIES reverse proxies, each
    of which appends the address it saw to X-Forwarded-For, that is the entry as many
    places from the right; anything left of it was written by the client itself."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                     if a.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _locked(scope: str, username: str, ip: str | None) -> Q:
    return Q(scope=scope, username=username) if scope == USERNAME else Q(scope=scope, ip=ip)


def current_lockout(kind: str, username: str, ip: str | None,
                    now: datetime | None = None) -> Lockout | None:
    """The lockout that refuses this attempt now, if any (the one that ends last)."""
    now = now or timezone.now()
    wanted = Q(pk__in=[])
    if ip:
        wanted |= _locked(kind, "", ip)
    username = normalize(username)
    if kind == LOGIN and username:
        wanted |= _locked(USERNAME, username, None)
    row = (LoginAttempt.objects.filter(wanted, kind=LoginAttempt.Kind.LOCKOUT, until__gt=now)
           .order_by("-until").first())
    return Lockout(row.scope, row.until) if row else None


@transaction.atomic
def do_record_failure(kind: str, username: str, ip: str | None,
                      now: datetime | None = None) -> Lockout | None:
    """Note one failed login (or API token); returns the lockout it started, if any.
    Each lockout is an audit event."""
    now = now or timezone.now()
    username = normalize(username) if kind == LOGIN else ""
    LoginAttempt.objects.create(kind=kind, username=username, ip=ip, at=now)
    failures = LoginAttempt.objects.filter(kind=kind, at__gt=now - _window())
    started = []
    if username and failures.filter(username=username, counts_for_user=True).count() \
            >= settings.LOGIN_FAILURES_PER_USER:
        started += _do_lock(USERNAME, username, None, now)
    if ip and failures.filter(ip=ip).count() >= settings.LOGIN_FAILURES_PER_IP:
        started += _do_lock(kind, "", ip, now)
    do_prune_attempts(now)
    return max(started, key=lambda lockout: lockout.until, default=None)


def _do_lock(scope: str, username: str, ip: str | None, now: datetime) -> list[Lockout]:
    if LoginAttempt.objects.filter(_locked(scope, username, ip),
                                   kind=LoginAttempt.Kind.LOCKOUT, until__gt=now).exists():
        return []
    until = now + _lock_time()
    LoginAttempt.objects.create(kind=LoginAttempt.Kind.LOCKOUT, scope=scope, username=username,
                                ip=ip, at=now, until=until)
    limit = (settings.LOGIN_FAILURES_PER_USER if scope == USERNAME
             else settings.LOGIN_FAILURES_PER_IP)
    do_record("auth.locked_out", at=now, scope=scope, username=username or None, ip=ip,
              until=until.isoformat(), failures=limit,
              window_minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    return [Lockout(scope, until)]


def do_clear_failures(username: str) -> None:
    """A successful login: the username's failed logins stop counting against it (the
    address's count stays: one right password must not buy another round of guesses)."""
    LoginAttempt.objects.filter(kind=LOGIN, username=normalize(username),
                                counts_for_user=True).update(counts_for_user=False)


def do_prune_attempts(now: datetime | None = None) -> int:
    """Delete what no longer counts: failures older than the window, lockouts over.
    Run on each failure, so the table holds at most one window of them."""
    now = now or timezone.now()
    old = now - max(_window(), _lock_time())
    deleted, _ = LoginAttempt.objects.filter(
        Q(until__isnull=True) | Q(until__lte=now), at__lt=old).delete()
    return deleted
