"""Connecting the brand's accounts: what the desk's account pages do.

An account is connected with one connector that hears its posts (its listener)
and, where that connector can also post, delivers its replies; otherwise its
replies go to the outbox file. Before an account is saved its connector is
asked whether the settings work (check), so a mistyped password is seen at once;
an admin may save one that does not answer yet (the platform down), and the
desk keeps trying it on the clock.

Pausing stops hearing, not answering: replies already written still go out.
Removing forgets the account and its credentials; the posts and cases it
brought stay, and their replies go out from the channel's next account, or to
the outbox file.

Accounts whose connector signs in with OAuth (an e-mail account on Microsoft 365
or Gmail) are signed in through the provider's own page: the admin is sent there
and back, and the refresh token the provider gives is kept with the account.
"""

import secrets
import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.connectors import channels, listening, oauth, registry
from socialdesk.connectors.base import ConnectorError, Setting
from socialdesk.connectors.models import ChannelAccount

MAX_POLL_SECONDS = 24 * 3600
MIN_POLL_SECONDS = 10
# How long an admin has to sign in at the provider and come back.
SIGN_IN_SECONDS = 15 * 60


class AccountError(Exception):
    """Settings the desk cannot keep, with what is wrong in words."""


@dataclass(frozen=True)
class Kind:
    """A connector an admin can connect an account with."""

    name: str
    label: str
    channels: tuple[str, ...]  # the channels it serves; all, when it takes any
    settings: tuple[Setting, ...]
    delivers: bool  # posts replies itself; else they go to the outbox file


def kinds() -> dict[str, Kind]:
    """The connectors that hear posts, by name."""
    found = (kind_named(name) for name in registry.CONNECTORS)
    return {kind.name: kind for kind in found if kind is not None}


def kind_named(name: str) -> Kind | None:
    """The connector of that name, if there is one and it hears posts. Only it is
    loaded: an account's page imports no other platform's library."""
    try:
        connector = registry.load(name)
    except LookupError:
        return None
    if not hasattr(connector, "fetch"):
        return None
    return Kind(name, connector.label, tuple(connector.channels) or tuple(channels.NAMES),
                tuple(connector.settings), hasattr(connector, "deliver"))


def kind_of(account: ChannelAccount) -> Kind | None:
    return kind_named(account.listener) if account.listener else None


def clean_settings(kind: Kind, given: dict, keep: dict | None = None) -> tuple[dict, dict]:
    """The account's config and secrets from what the form gave. A secret left empty
    keeps the one stored (`keep`), so it never has to be shown again."""
    config, secrets, missing = {}, {}, []
    for setting in kind.settings:
        value = given.get(setting.name)
        value = value.strip() if isinstance(value, str) else value
        if setting.secret and not value and keep and keep.get(setting.name):
            value = keep[setting.name]
        if value in ("", None, []):
            if setting.required and setting.kind != "bool":
                missing.append(setting.label)
            continue
        (secrets if setting.secret else config)[setting.name] = _typed(setting, value)
    if missing:
        raise AccountError(f"{kind.label} needs: {', '.join(missing)}")
    return config, secrets


def _typed(setting: Setting, value):
    if setting.kind == "number":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise AccountError(f"{setting.label} must be a whole number, not {value!r}") \
                from None
    if setting.kind == "bool":
        return value in (True, "on", "true", "1", "yes")
    if setting.kind == "list":
        items = value if isinstance(value, list) else str(value).split(",")
        return [item.strip() for item in items if item.strip()]
    return str(value)


def _checked_interval(seconds) -> int:
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        raise AccountError("the interval between fetches must be a whole number of seconds") \
            from None
    if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
        raise AccountError(f"fetch every {MIN_POLL_SECONDS} seconds to "
                           f"{MAX_POLL_SECONDS // 3600} hours, not {seconds} seconds")
    return seconds


def do_connect_account(*, kind: Kind, channel: str, handle: str, name: str, given: dict,
                       poll_seconds=60, actor=None, unchecked: bool = False
                       ) -> tuple[ChannelAccount, str]:
    """Connect an account, after checking that it works (unless `unchecked`).
    Returns it and what the platform said of it."""
    handle = handle.strip()
    if channel not in kind.channels:
        raise AccountError(f"{kind.label} does not serve {channel!r} "
                           f"(it serves: {', '.join(kind.channels)})")
    if not handle or len(handle) > 255:
        raise AccountError("give the account's handle or address (at most 255 characters)")
    account = ChannelAccount(channel=channel, handle=handle, name=name.strip()[:255],
                             listener=kind.name, delivery=kind.name if kind.delivers else "file",
                             poll_seconds=_checked_interval(poll_seconds))
    account.config, secrets = clean_settings(kind, given)
    account.set_secrets(secrets)
    said = _checked(account, unchecked)
    account.next_poll_at = timezone.now()
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        raise AccountError(f"{channels.channel(channel).label} account {handle} is connected "
                           "already") from None
    do_record("account.connected", actor=actor, account=account.pk, channel=channel,
              handle=handle, connector=kind.name, check=said)
    return account, said


def do_update_account(account: ChannelAccount, *, name: str, given: dict, poll_seconds,
                      actor=None, unchecked: bool = False) -> str:
    """Change an account's settings (a secret left empty is kept) after checking them."""
    kind = kind_of(account)
    if kind is None:
        raise AccountError(f"{account.listener!r} is not a connector this desk has")
    account.config, secrets = clean_settings(kind, given, keep=account.secrets())
    account.set_secrets(secrets)
    account.name = name.strip()[:255]
    account.poll_seconds = _checked_interval(poll_seconds)
    said = _checked(account, unchecked)
    # Whatever stopped it may be fixed now: fetched at the next tick.
    account.last_error, account.error_kind = "", ""
    account.next_poll_at = timezone.now() if account.is_active else None
    account.save()
    do_record("account.changed", actor=actor, account=account.pk, channel=account.channel,
              handle=account.handle, check=said)
    return said


def _checked(account: ChannelAccount, unchecked: bool) -> str:
    try:
        return registry.listener_for(account).check(account)
    except ConnectorError as e:
        said = f"{e} ({e.kind})"
        if e.kind == ConnectorError.REAUTHORISE and offers_sign_in(account):
            # Kept, to be signed in at the provider's page from the account's.
            return f"not signed in yet: {e}"
        if not unchecked:
            raise AccountError(f"the connection does not work: {said}") from None
        return f"not checked: {said}"


def do_pause_account(account: ChannelAccount, actor=None) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(is_active=False, next_poll_at=None)
    do_record("account.paused", actor=actor, account=account.pk, channel=account.channel,
              handle=account.handle)


def do_resume_account(account: ChannelAccount, actor=None) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(
        is_active=True, next_poll_at=timezone.now(), last_error="", error_kind="")
    do_record("account.resumed", actor=actor, account=account.pk, channel=account.channel,
              handle=account.handle)


def do_remove_account(account: ChannelAccount, actor=None) -> None:
    do_record("account.removed", actor=actor, account=account.pk, channel=account.channel,
              handle=account.handle)
    account.delete()


def offers_sign_in(account: ChannelAccount) -> bool:
    """Whether the account signs in at its provider's page (its settings ask for
    OAuth), even if they are not complete yet: the sign-in then says what is missing."""
    connector = _connector(account)
    if connector is None or not hasattr(connector, "sign_in"):
        return False
    try:
        return connector.sign_in(account) is not None
    except ConnectorError:
        return True


def do_start_sign_in(account: ChannelAccount, redirect_uri: str) -> tuple[str, dict]:
    """The provider's sign-in page for the account, and what its return must match
    (the state, the PKCE verifier): the caller keeps it, e.g. in the admin's session."""
    sign_in = _sign_in(account)
    state, verifier = secrets.token_urlsafe(24), oauth.new_verifier()
    pending = {"state": state, "verifier": verifier, "account": account.pk,
               "redirect_uri": redirect_uri, "at": time.time()}
    return sign_in.url(redirect_uri, state, verifier), pending


def do_finish_sign_in(pending: dict, code: str, actor=None) -> tuple[ChannelAccount, str]:
    """Trade the code the provider's page gave for the account's tokens and keep them;
    the account and what checking its connection said."""
    account = ChannelAccount.objects.filter(pk=pending.get("account")).first()
    if account is None:
        raise AccountError("the account was removed while you signed in")
    if not 0 <= time.time() - float(pending.get("at", 0)) <= SIGN_IN_SECONDS:
        raise AccountError(f"the sign-in took more than {SIGN_IN_SECONDS // 60} minutes: "
                           "start it again")
    if not code or len(code) > 4096:
        raise AccountError("the provider sent no sign-in code back")
    sign_in = _sign_in(account)
    try:
        answer = sign_in.trade(code, pending["redirect_uri"], pending["verifier"])
        _connector(account).keep_sign_in(account, answer)
    except ConnectorError as e:
        raise AccountError(f"the sign-in did not work: {e}") from e
    # Whatever stopped it (a revoked grant) is fixed now: fetched at the next tick.
    account.last_error, account.error_kind = "", ""
    account.next_poll_at = timezone.now() if account.is_active else None
    account.save()
    do_record("account.signed_in", actor=actor, account=account.pk, channel=account.channel,
              handle=account.handle)
    ok, said = listening.check_account(account)
    return account, said if ok else f"but the connection does not work: {said}"


def _connector(account: ChannelAccount):
    try:
        return registry.load(account.listener) if account.listener else None
    except LookupError:
        return None


def _sign_in(account: ChannelAccount) -> oauth.SignIn:
    connector = _connector(account)
    try:
        found = connector.sign_in(account) if hasattr(connector, "sign_in") else None
    except ConnectorError as e:
        raise AccountError(f"cannot sign in yet: {e}") from e
    if found is None:
        raise AccountError(f"{account} does not sign in at a provider's page")
    return found
