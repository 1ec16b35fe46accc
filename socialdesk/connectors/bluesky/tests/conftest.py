"""The Bluesky connector's test servers: the AT Protocol's reference services
(servers.py) for the whole test session, and accounts made on them. Tests that
need them skip when they are absent, and fail when CI=true.
"""

import os
import time

import pytest

from socialdesk.connectors.bluesky.tests.servers import (
    DidNotStart,
    Person,
    Unavailable,
    running_services,
)
from socialdesk.connectors.models import ChannelAccount


def absent(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Bluesky reference services are needed on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def reference_server(tmp_path_factory):
    """The URLs of a running PLC directory, PDS and Bluesky AppView."""
    logs = tmp_path_factory.mktemp("bluesky") / "services.log"
    try:
        with running_services(logs) as urls:
            yield urls
    except Unavailable as e:
        absent(str(e))
    except DidNotStart as e:
        pytest.fail(str(e))


@pytest.fixture
def people(reference_server):
    return lambda name: Person(reference_server["pds"], name)


@pytest.fixture
def brand(db, reference_server, people):
    """The brand's account on the reference PDS, and the desk's ChannelAccount for it."""
    person = people("brand")
    account = ChannelAccount(channel="bluesky", handle=person.handle, listener="bluesky",
                             delivery="bluesky", config={"service": reference_server["pds"]})
    account.set_secrets({"app_password": person.app_password()})
    account.save()
    return person, account


def eventually(probe, seconds: float = 30):
    """probe() once it is truthy: the AppView indexes what the PDS writes a moment later."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
