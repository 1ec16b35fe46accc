"""DATABASE_URL: what each kind of URL becomes in Django's DATABASES."""

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from socialdesk.lib.env import POSTGRES_CONNECT_TIMEOUT, database_from_url, kept_key


def test_a_postgres_url_keeps_its_query_options():
    database = database_from_url(
        "postgres://desk:secret@db.internal:5432/socialdesk"
        "?sslmode=require&sslrootcert=/etc/ssl/root.crt&application_name=socialdesk")
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"], database["HOST"]) == \
        ("socialdesk", "desk", "secret", "db.internal")
    assert database["OPTIONS"]["sslmode"] == "require"
    assert database["OPTIONS"]["sslrootcert"] == "/etc/ssl/root.crt"
    assert database["OPTIONS"]["application_name"] == "socialdesk"


def test_a_postgres_url_keeps_persistent_checked_connections():
    database = database_from_url("postgres://desk@db.internal/socialdesk")
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_every_postgres_scheme_is_accepted(scheme):
    database = database_from_url(f"{scheme}://desk@db.internal/socialdesk")
    assert database["ENGINE"] == "django.db.backends.postgresql"


def test_a_password_with_special_characters_arrives_unquoted():
    database = database_from_url("postgres://desk:p%40ss%2Fw%3Ard%23%25%20x@db.internal/desk")
    assert database["PASSWORD"] == "p@ss/w:rd#% x"
    assert database["USER"] == "desk"


def test_the_port_is_kept_and_may_be_left_out():
    assert int(database_from_url("postgres://desk@db.internal:6543/desk")["PORT"]) == 6543
    assert database_from_url("postgres://desk@db.internal/desk")["PORT"] in ("", None)


def test_a_postgres_connection_attempt_gives_up_after_a_default_timeout():
    database = database_from_url("postgres://desk@db.internal/desk?sslmode=require")
    assert database["OPTIONS"]["connect_timeout"] == POSTGRES_CONNECT_TIMEOUT == 10
    assert database["OPTIONS"]["sslmode"] == "require"


def test_the_url_may_set_its_own_connect_timeout():
    database = database_from_url("postgres://desk@db.internal/desk?connect_timeout=3")
    assert int(database["OPTIONS"]["connect_timeout"]) == 3


def test_a_dead_postgres_server_is_noticed_and_no_lock_is_waited_on_for_ever():
    options = database_from_url("postgres://desk@db.internal/desk")["OPTIONS"]
    assert (options["keepalives"], options["keepalives_idle"]) == (1, 30)
    assert "-c lock_timeout=60s" in options["options"]


def test_the_url_may_set_its_own_server_options_and_lock_timeout():
    options = database_from_url(
        "postgres://desk@db.internal/desk?options=-c%20lock_timeout%3D5s&keepalives_idle=5"
    )["OPTIONS"]
    assert options["options"] == "-c lock_timeout=5s"
    assert int(options["keepalives_idle"]) == 5
    options = database_from_url(
        "postgres://desk@db.internal/desk?options=-c%20statement_timeout%3D9s")["OPTIONS"]
    assert options["options"] == "-c lock_timeout=60s -c statement_timeout=9s"


def test_a_relative_sqlite_path_stays_relative():
    database = database_from_url("sqlite:///desk.sqlite3")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "desk.sqlite3"


def test_an_absolute_sqlite_path_takes_four_slashes():
    assert database_from_url("sqlite:////var/lib/socialdesk/desk.sqlite3")["NAME"] == \
        "/var/lib/socialdesk/desk.sqlite3"


def test_a_sqlite_url_keeps_the_desks_sqlite_settings():
    options = database_from_url("sqlite:////srv/desk.sqlite3")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20
    assert "PRAGMA journal_mode=WAL" in options["init_command"]


def test_sqlite_query_options_are_added_to_the_desks_settings():
    options = database_from_url("sqlite:////srv/desk.sqlite3?timeout=60")["OPTIONS"]
    assert options["timeout"] == 60
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA journal_mode=WAL" in options["init_command"]


@pytest.mark.parametrize("url", ["mysql://desk@db.internal/desk", "redis://127.0.0.1:6379/0",
                                 "db.internal/desk"])
def test_it_rejects_an_unsupported_scheme_naming_the_ones_it_takes(url):
    with pytest.raises(ValueError, match="unsupported scheme .*use sqlite or postgres"):
        database_from_url(url)


def test_it_rejects_a_url_it_cannot_parse_naming_the_variable():
    with pytest.raises(ValueError, match="DATABASE_URL"):
        database_from_url("postgres://desk:pass@db.internal:99999/desk")


def test_processes_that_start_together_keep_one_key(tmp_path):
    path = tmp_path / "secret_key"
    with ProcessPoolExecutor(4) as pool:
        keys = list(pool.map(_make_key, [path] * 8))
    assert len(set(keys)) == 1 and keys[0] == path.read_text().strip()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"], "no temp file left"
    assert kept_key(path, lambda: "another") == keys[0]


def _make_key(path):
    return kept_key(path, lambda: os.urandom(16).hex())
