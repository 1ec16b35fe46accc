import pytest

from socialdesk.connectors.mastodon.tests.server import FakeMastodon
from socialdesk.connectors.models import ChannelAccount


@pytest.fixture
def server(httpserver):
    return FakeMastodon(httpserver)


@pytest.fixture
def account(db, server):
    """The brand's account on example.social, heard from and answered from."""
    account = ChannelAccount(channel="mastodon", handle="care@example.social", name="Kettle Co.",
                             listener="mastodon", delivery="mastodon",
                             config={"api_base_url": server.base})
    account.set_secrets({"access_token": "secret-token"})
    account.save()
    return account


DANA = {"id": "108887", "username": "dana", "acct": "dana@other.example", "display_name": "Dana"}
ERIN = {"id": "108900", "username": "erin", "acct": "erin", "display_name": "Erin Local",
        "url": "https://example.social/@erin", "followers_count": 3}
