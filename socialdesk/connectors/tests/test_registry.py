"""Which connector and account a reply goes out through."""

import pytest

from socialdesk.connectors import registry
from socialdesk.connectors.base import ConnectorError, DeliveryError
from socialdesk.connectors.file.connector import FileConnector
from socialdesk.connectors.models import ChannelAccount


def test_a_reply_goes_out_from_the_account_the_post_was_addressed_to(db):
    ChannelAccount.objects.create(channel="email", handle="care@example.com")
    press = ChannelAccount.objects.create(channel="email", handle="Press@Example.com")

    assert registry.account_for("email", "press@example.com") == press
    assert registry.account_for("mastodon", "press@example.com") is None
    # Not one of ours (or not said): the channel's first account answers.
    assert registry.account_for("email", "other@example.com").handle == "care@example.com"
    assert registry.account_for("email").handle == "care@example.com"
    # Handles given with the channel's "@" match the stored form either way.
    x = ChannelAccount.objects.create(channel="x", handle="@kettleco_help")
    assert registry.account_for("x", "kettleco_help") == x


def test_without_an_account_replies_go_to_the_outbox_file(db):
    connector, account = registry.delivery_for("youtube")
    assert isinstance(connector, FileConnector) and account is None


def test_an_unknown_or_unfit_connector_is_refused_with_its_name(db):
    account = ChannelAccount.objects.create(channel="x", handle="brand", delivery="nope",
                                            listener="file")
    with pytest.raises(DeliveryError, match="no connector named 'nope'") as refused:
        registry.delivery_for("x")
    assert not refused.value.retryable
    with pytest.raises(ConnectorError, match="'file' cannot fetch posts"):
        registry.listener_for(account)
