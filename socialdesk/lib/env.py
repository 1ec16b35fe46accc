"""Small helpers that read settings from the environment.

A secret may also come from a file named by ``NAME_FILE`` (Docker and systemd
credentials), so that it never has to sit in the process environment.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url


def env(name: str, default: str = "") -> str:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name, "")
    if not value:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


def data_dir() -> Path:
    default = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "socialdesk"
    return Path(env("SOCIALDESK_DATA_DIR", str(default))).expanduser()


# Seconds a PostgreSQL connection attempt may take before it fails, unless the
# URL sets its own ?connect_timeout=: libpq's default is to wait for ever, so a
# database host that drops packets would otherwise hang a web request, a worker
# or a CLI command with no message.
POSTGRES_CONNECT_TIMEOUT = 10

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
# A connection whose server went away mid-query (a host that crashed, a network
# cut) is noticed by TCP keepalives within about a minute, rather than by the
# operating system's default of two hours; and no statement waits more than
# LOCK_TIMEOUT for a row lock another transaction holds. Each can be overridden
# by the URL's own options.
POSTGRES_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                       "keepalives_count": 3}
POSTGRES_LOCK_TIMEOUT = "60s"


def kept_key(path: Path, make) -> str:
    """A key kept in a file of the data directory, made by `make()` the first time.
    Processes that start together (a first `serve` and `worker`, two test runs)
    all get the same key: it is written to a file of its own, then linked into
    place, which fails for all but the first."""
    if not path.exists():
        temp = path.with_name(f".{path.name}.{os.getpid()}")
        temp.write_text(make())
        temp.chmod(0o600)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        finally:
            temp.unlink()
    return path.read_text().strip()


def database_from_url(url: str) -> dict:
    """Django DATABASES entry for a sqlite:/// or postgres:// URL.

    dj-database-url does the parsing, so percent-encoded credentials and query
    options (``?sslmode=require``, ``?options=…``) reach the driver as written.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db. The desk's own
        # settings (WAL, busy timeout, IMMEDIATE transactions) still apply;
        # options from the URL are added to them or override them.
        parsed = _parse(url)
        database = sqlite_database(Path(parsed["NAME"]))
        database["OPTIONS"].update(parsed.get("OPTIONS", {}))
        return database
    if scheme in POSTGRES_SCHEMES:
        database = _parse(url, conn_max_age=60, conn_health_checks=True)
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT)
        for key, value in POSTGRES_KEEPALIVES.items():
            options.setdefault(key, value)
        if "lock_timeout" not in options.get("options", ""):
            options["options"] = (f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT} "
                                  + options.get("options", "")).strip()
        return database
    raise ValueError(f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite or postgres)")


def _parse(url: str, **settings) -> dict:
    try:
        return dict(dj_database_url.parse(url, **settings))
    except dj_database_url.ParseError as e:
        # The message names the likely cause (a character in the password that
        # needs percent-encoding) but not the variable.
        raise ValueError(f"DATABASE_URL: {e}") from None


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the web process read while the pipeline writes; the busy
        # timeout makes a second writer wait instead of failing at once.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
        },
    }
