"""The served API against its own OpenAPI document: `socialdesk serve` in a fresh data
directory (on the PostgreSQL pass, a fresh database on that server), and Schemathesis
sending it what the document allows and what it does not. No answer may be a server
error, a status code the document does not list for the operation, or a body that
does not fit the documented schema."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import post

# Test cases per operation and phase: enough to reach every operation's limits and
# error answers, few enough to take a couple of minutes on two cores. A fixed seed
# makes a failure reproducible (`st run ... --seed`); SCHEMATHESIS_EXAMPLES and
# SCHEMATHESIS_SEED widen the search by hand.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261116"))
# Every check but one: `positive_data_acceptance` expects each request the schema
# allows to succeed, where the desk refuses some with reasons the schema cannot
# state (a reply that breaks a guideline, a tag of the wrong characters, merging a
# contact into itself), answering the documented 403, 404, 409 or 422.
EXCLUDED_CHECKS = "positive_data_acceptance"


@contextlib.contextmanager
def scratch_database():
    """A DATABASE_URL for the served desk: on the PostgreSQL pass (DATABASE_URL set) a
    new database on that server, dropped afterwards; else None, the data directory's
    SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        yield None
        return
    import psycopg

    parts = urlsplit(url)
    name = f"socialdesk_fuzz_{os.getpid()}"
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def socialdesk_env(data_dir, database_url: str | None) -> dict:
    env = {**os.environ, "SOCIALDESK_DATA_DIR": str(data_dir), "DEBUG": "0",
           # Schemathesis sends bad tokens on purpose (the ignored_auth check): the
           # address must not be locked out (429) before it has seen every 401.
           "LOGIN_FAILURES_PER_IP": "1000000"}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def socialdesk(*args, env):
    result = subprocess.run([sys.executable, "-m", "socialdesk.cli", *args], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, token=None, body=None):
    """(status, headers, decoded JSON body) of one request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def wait_until_serving(base, token, server, log_path):
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(f"{base}/api/v1/openapi.json", token)[0] == 200:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"socialdesk serve did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)


def seed_the_desk(base, token):
    """Cases, posts, contacts, a reply and a merge with small ids, for generated ids
    to find."""
    records = [post(str(i), text, author=f"customer{i}") for i, text in enumerate([
        "my kettle stopped working, really disappointed", "how do I descale it?",
        "love it, thank you!", "the lid broke after a week", "where is my order?",
        "refund please, this is the second one that leaked"])]
    status, _, body = call(f"{base}/api/v1/posts", token, {"records": records})
    assert (status, body["created"]) == (200, len(records)), body
    status, _, cases = call(f"{base}/api/v1/cases", token)
    assert status == 200 and cases, cases
    status, _, body = call(f"{base}/api/v1/cases/{cases[0]['id']}/replies", token,
                           {"text": "Sorry to hear that, we have sent you a DM.",
                            "visibility": "public"})
    assert status == 201, body
    status, _, body = call(f"{base}/api/v1/contacts/1/merge", token, {"other": 2})
    assert status == 200, body


@pytest.fixture
def schemathesis_installed():
    # The test extra installs it; CI must run this test, a bare checkout may skip it.
    if os.environ.get("CI") != "true":
        pytest.importorskip("schemathesis", reason="pip install -e '.[test]'")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, token) of `socialdesk serve` on a fresh desk with a few cases."""
    data_dir = tmp_path_factory.mktemp("served")
    with scratch_database() as database_url:
        yield from serve(data_dir, socialdesk_env(data_dir, database_url))


def serve(data_dir, env):
    socialdesk("createuser", "fuzz", "--role", "admin", "--team", "care", env=env)
    token = socialdesk("token", "fuzz", env=env).strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "socialdesk.cli", "serve", "--port", str(port),
             "--no-clock", "--threads", "4"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(base, token, server, log_path)
            seed_the_desk(base, token)
            yield base, token
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_an_unauthenticated_request_is_a_401_in_json(served):
    base, _ = served
    for url, body in ((f"{base}/api/v1/cases", None),
                      (f"{base}/api/v1/posts", {"records": []})):
        status, headers, answer = call(url, body=body)
        assert status == 401 and headers["Content-Type"].startswith("application/json")
        assert answer == {"detail": "Unauthorized"}


def test_the_served_api_keeps_its_openapi_contract(schemathesis_installed, served, tmp_path):
    base, token = served
    report = tmp_path / "report.json"
    # A batch of more records than the schema's maxItems is refused with 413 (too
    # large), as documented, where schemathesis expects the usual 4xx codes alone.
    config = tmp_path / "schemathesis.toml"
    config.write_text('[checks.negative_data_rejection]\nexpected-statuses = ["400", "401", '
                      '"403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]\n')
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
        f"{base}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--generation-database", "none", "--request-timeout", "60",
        "--report", "json", "--report-json-path", str(report), "--no-color",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                            timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12_000:]
    run = json.loads(report.read_text())
    operations = sum(len(item) for item in call(f"{base}/api/v1/openapi.json", token)[2]
                     ["paths"].values())
    assert run["operations"]["tested"] == run["operations"]["selected"] == operations
    assert (run["operations"]["errored"], run["test_cases"]["with_failures"],
            run["test_cases"]["errored"]) == (0, 0, 0), output[-12_000:]
    assert not run["failures"] and not run["errors"]
    print(f"schemathesis: {operations} operations, {run['test_cases']['generated']} test "
          f"cases, 0 failures, {run['running_time']:.0f} s")  # shown with -s
