"""The connectors the desk knows, and which one an account or a case uses.

An account names its listener (how posts are heard) and its delivery (how
replies go out) by these names. Each is imported when first used, so that a
desk that never connects to a platform never loads its library.
"""

from django.db.models import Q
from django.utils.module_loading import import_string

from socialdesk.connectors.base import Connector, ConnectorError, DeliveryError, Listener
from socialdesk.connectors.models import ChannelAccount

CONNECTORS: dict[str, str | type] = {
    "file": "socialdesk.connectors.file.connector.FileConnector",
    "folder": "socialdesk.connectors.file.listener.FolderListener",
    "mastodon": "socialdesk.connectors.mastodon.connector.MastodonConnector",
    "email": "socialdesk.connectors.email.connector.EmailConnector",
    "bluesky": "socialdesk.connectors.bluesky.connector.BlueskyConnector",
}


def load(name: str):
    """A new instance of the connector named; LookupError when there is none."""
    found = CONNECTORS.get(name)
    if found is None:
        raise LookupError(f"no connector named {name!r} (known: {', '.join(sorted(CONNECTORS))})")
    return import_string(found)() if isinstance(found, str) else found()


def listener_for(account: ChannelAccount) -> Listener:
    try:
        listener = load(account.listener)
    except LookupError as e:
        raise ConnectorError(str(e), ConnectorError.PERMANENT) from None
    if not hasattr(listener, "fetch"):
        raise ConnectorError(f"{account.listener!r} cannot fetch posts",
                             ConnectorError.PERMANENT)
    return listener


def account_for(channel: str, handle: str = "") -> ChannelAccount | None:
    """The brand's account that answers on a channel: the one the post was addressed
    to (Post.account) where the desk has it, else the channel's first."""
    accounts = ChannelAccount.objects.filter(channel=channel).order_by("id")
    handle = handle.lstrip("@")
    addressed = handle and accounts.filter(
        Q(handle__iexact=handle) | Q(handle__iexact=f"@{handle}")).first()
    return addressed or accounts.first()


def delivery_for(channel: str, handle: str = "") -> tuple[Connector, ChannelAccount | None]:
    """The connector that delivers on the channel, and the account it delivers from.
    DeliveryError (not retryable) when the account names one that cannot."""
    account = account_for(channel, handle)
    name = account.delivery if account else "file"
    try:
        connector = load(name)
    except LookupError as e:
        raise DeliveryError(f"{account}: {e}", retryable=False) from None
    if not hasattr(connector, "deliver"):
        raise DeliveryError(f"{account}: {name!r} cannot deliver replies", retryable=False)
    return connector, account
