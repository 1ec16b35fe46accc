"""Which connector delivers replies on a channel."""

from socialdesk.connectors.base import Connector
from socialdesk.connectors.file.connector import FileConnector
from socialdesk.connectors.models import ChannelAccount

CONNECTORS = {"file": FileConnector}


def connector_for(channel: str) -> Connector:
    account = ChannelAccount.objects.filter(channel=channel).first()
    name = account.delivery if account else "file"
    if name not in CONNECTORS:
        raise LookupError(f"no connector named {name!r} for channel {channel!r}")
    return CONNECTORS[name]()
