"""Fault runs: the desk's processes and servers killed mid-work, then every guarantee checked.

    python bench/faults.py                          # every fault, once
    python bench/faults.py --quick                  # the short version CI runs
    python bench/faults.py --seed 7 --runs 3 --only worker redis

Each run builds a fresh desk (a temporary data directory; in the scale-out mode
a scratch PostgreSQL database, a Redis server of its own (or, without
redis-server, a queue of its own on a shared one), `socialdesk worker` and
`socialdesk scheduler`), imports a seeded synthetic file (threads, brand
replies, private e-mail), injects its fault at a point drawn from the seed,
waits (bounded) until nothing is left unprocessed, and checks that every post
is stored once and processed, that each inbound post has one triage row, that
every reply is sent once or visibly failed, and that the cases are those of a
clean run of the same file. docs/BENCHMARKS.md ("Faults") describes each run.

Everything runs on 127.0.0.1; every process the script starts is stopped, the
scratch databases are dropped and the temporary directory is removed, also
after an error. The system's PostgreSQL and Redis are only ever used, never
stopped: the faults that stop a server stop one the script started.
"""

import argparse
import json
import os
import queue
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import jsonl_bytes, posts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# In every process of a desk, so that the clock and the sweepers act within a run.
FAST_CLOCK = {"CLOCK_INTERVAL_SECONDS": "2", "SWEEP_GRACE_SECONDS": "5",
              "TASK_VISIBILITY_TIMEOUT_SECONDS": "20"}
# Settings the script sets itself; the caller's values (or NAME_FILE) are dropped.
# The last five are read by Celery's command line, under `socialdesk worker` and
# `socialdesk scheduler`: a BROKER_URL in the caller's environment would send
# those two to another broker than the rest of the desk.
DESK_VARIABLES = {
    "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "CELERY_RESULT_BACKEND",
    "SOCIALDESK_DATA_DIR", "OUTBOX_DIR", "SECRET_KEY", "PIPELINE_BATCH_SIZE",
    "TRIAGE_PROCESSES", "TRIAGE_TIER", "BROKER_TIMEOUT_SECONDS", *FAST_CLOCK,
    "BROKER_URL", "RESULT_BACKEND", "APP", "LOADER", "CONFIG_MODULE",
}
# The outbox sweeper fails a reply left "sending" this long (cases/outbox.py).
SENDING_TIMEOUT_S = 300
POLL_S = 0.02

FAULTS = {
    "none": "scale-out, no fault: what the workers do alone, for comparison",
    "embedded-import": "embedded: `socialdesk import` killed (SIGKILL), then run again",
    "import": "scale-out: the importer killed mid-import, then run again",
    "pool-child": "scale-out: worker pool children killed, again and again",
    "worker": "scale-out: the whole worker killed, a new one started",
    "redis": "scale-out: Redis killed mid-import and restarted empty",
    "postgres": "scale-out: PostgreSQL stopped mid-import and started again",
    "replies": "scale-out: replies queued with the broker down, worker killed delivering",
}
QUICK = ("embedded-import", "pool-child", "worker")


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

class Processes:
    """Every process the script starts, each in a session of its own, so that
    a process and everything it started can be signalled, and stopped at the end."""

    def __init__(self, logs: Path):
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.started: list[subprocess.Popen] = []
        self.count = Counter()

    def log_path(self, name: str) -> Path:
        self.count[name] += 1
        return self.logs / f"{name}-{self.count[name]}.log"

    def start(self, name: str, argv: list[str], env: dict | None = None,
              stdout=None, cwd: Path = ROOT) -> subprocess.Popen:
        path = self.log_path(name)
        with path.open("wb") as log:
            process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=log if stdout is None else stdout,
                stderr=log, start_new_session=True)
        process.name, process.log, process.stopped = name, path, False
        self.started.append(process)
        return process

    def run(self, name: str, argv: list[str], env: dict | None = None,
            timeout: float = 300, cwd: Path = ROOT) -> tuple[int, str]:
        """Run to the end (at most `timeout` seconds); the exit status and the output's
        last line (the whole output is in the log, shown for a failed run)."""
        process = self.start(name, argv, env, cwd=cwd)
        try:
            rc = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = 124
        self.stop(process, grace=0)  # anything it left behind
        return rc, last_line(process.log)

    @staticmethod
    def signal_group(process: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, process: subprocess.Popen, grace: float = 10) -> None:
        """SIGTERM to the process's group, SIGKILL after `grace` seconds; also
        reaches what it started, should it have died before them. Once per process."""
        if process.stopped:
            return
        if process.poll() is None and grace:
            self.signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(process, signal.SIGKILL)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        process.stopped = True

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process, grace=5)


def tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace").replace("\r", "\n")
    except OSError:
        return ""
    return "\n".join(line for line in text.splitlines()[-lines:])


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux)."""
    found = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(child) for child in path.read_text().split())
        except OSError:  # the thread ended meanwhile
            pass
    return sorted(found)


def last_line(path: Path) -> str:
    return tail(path, 1).strip()


def failed(process: subprocess.Popen) -> bool:
    """The process ended, and not with 0."""
    return process.poll() not in (None, 0)


def exited(process: subprocess.Popen) -> str:
    return f"{process.name} exited {process.returncode}: {last_line(process.log)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def socialdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "socialdesk.cli", *args]


# --------------------------------------------------------------------------
# Databases, read directly (the checks need no Django)
# --------------------------------------------------------------------------

class SqliteReader:
    def __init__(self, path: Path):
        self.path = path

    def rows(self, sql: str) -> list[tuple]:
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def close(self) -> None:
        pass


class PostgresReader:
    def __init__(self, url: str):
        self.url, self.connection = url, None

    def rows(self, sql: str) -> list[tuple]:
        import psycopg

        for attempt in range(2):
            try:
                if self.connection is None or self.connection.closed:
                    self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=3)
                return self.connection.execute(sql).fetchall()
            except psycopg.OperationalError:
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - a server that went away
                pass
            self.connection = None


PROGRESS_SQL = """
    SELECT COUNT(*),
           COALESCE(SUM(CASE WHEN processed_at IS NULL AND process_error = ''
                             THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN process_error <> '' THEN 1 ELSE 0 END), 0)
    FROM ingestion_post WHERE source <> 'desk'
"""
REPLIES_SQL = "SELECT status, COUNT(*) FROM cases_reply GROUP BY status"


def progress(db) -> tuple[int, int, int] | None:
    """(stored, waiting, set aside with an error), or None while the database cannot say."""
    try:
        stored, waiting, failed = db.rows(PROGRESS_SQL)[0]
    except Exception:  # noqa: BLE001 - a database that is down, or busy
        return None
    return int(stored), int(waiting), int(failed)


def reply_statuses(db) -> Counter | None:
    try:
        return Counter({status: int(n) for status, n in db.rows(REPLIES_SQL)})
    except Exception:  # noqa: BLE001
        return None


# --------------------------------------------------------------------------
# Servers the script owns: Redis, and PostgreSQL for the database fault
# --------------------------------------------------------------------------

class PrivateRedis:
    def __init__(self, procs: Processes, directory: Path):
        self.procs, self.directory = procs, directory
        self.port, self.process = free_port(), None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = self.procs.start("redis", [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", str(self.directory)])
        if not wait_for(lambda: port_open(self.port), 20):
            raise RuntimeError(f"redis-server did not start: {tail(self.process.log)}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL instance of the script's own (initdb), which the database
    fault stops and starts; the system's server is never touched."""

    def __init__(self, procs: Processes, bindir: Path):
        self.procs, self.bindir = procs, bindir
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="socialdesk-faults-pg-"))
        shutil.chown(self.directory, "postgres", "postgres")
        self.data = self.directory / "data"
        self.started = False  # pg_ctl start was run (the server may be up)

    def as_postgres(self, *argv: str, timeout: float = 120) -> None:
        rc, output = self.procs.run("pg_ctl", ["runuser", "-u", "postgres", "--", *argv],
                                    timeout=timeout, cwd=self.directory)
        if rc:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({rc}): {output}")

    def init(self) -> None:
        self.as_postgres(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                         "-U", "postgres", "--no-sync")

    def start(self) -> None:
        self.started = True
        self.as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                         "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
                         " -c fsync=off", "-l", str(self.directory / "log"), "start")

    def stop(self) -> None:
        self.as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                         "stop", "-m", "fast")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        # pg_ctl start leaves the server outside the script's process groups: stop it
        # here. An initdb cut short was stopped with its process group.
        if self.started and (self.data / "postmaster.pid").exists():
            try:
                self.as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w",
                                 "-t", "30", "stop", "-m", "immediate", timeout=60)
            except RuntimeError as e:
                print(f"  warning: {e}", file=sys.stderr)
        shutil.rmtree(self.directory, ignore_errors=True)


def forget(url: str, mark: str) -> None:
    """On a shared Redis: remove what the run left there, all of it named with `mark`
    (its queue, and its workers' names), and nothing else."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        for key in list(client.scan_iter(match=f"*{mark}*", count=1000)):
            client.delete(key)
        for key in list(client.scan_iter(match="_kombu.binding.*", count=1000)):
            for member in client.smembers(key):
                if mark.encode() in member:
                    client.srem(key, member)
        for tag, payload in list(client.hscan_iter("unacked")):
            if mark.encode() in payload:  # a message of the run's queue a killed worker held
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    except redis.RedisError as e:
        print(f"warning: could not tidy the shared broker: {e}", file=sys.stderr)
    finally:
        client.close()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


def postgres_bindir(given: str | None) -> Path | None:
    candidates = [Path(given)] if given else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------

Key = tuple[str, str]


def key_text(key: Key) -> str:
    return f"{key[0]}:{key[1]}"


def canonical(db) -> tuple[frozenset[frozenset[Key]], frozenset[Key]]:
    """The cases as sets of their posts' (channel, external id), and the posts in no case."""
    by_case, loose = defaultdict(set), set()
    for channel, external_id, case_id in db.rows(
            "SELECT channel, external_id, case_id FROM ingestion_post WHERE source <> 'desk'"):
        (by_case[case_id] if case_id is not None else loose).add((channel, external_id))
    return frozenset(frozenset(posts) for posts in by_case.values()), frozenset(loose)


def check_posts(db, keys: set[Key]) -> list[str]:
    problems = []
    rows = db.rows("""
        SELECT p.channel, p.external_id, p.direction, p.processed_at IS NOT NULL,
               p.process_error, t.post_id IS NOT NULL
        FROM ingestion_post p LEFT JOIN triage_triage t ON t.post_id = p.id
        WHERE p.source <> 'desk'""")
    stored = Counter((channel, external_id) for channel, external_id, *_ in rows)
    twice = [k for k, n in stored.items() if n > 1]
    missing, extra = keys - stored.keys(), stored.keys() - keys
    if twice:
        problems.append(f"{len(twice)} posts stored more than once, e.g. {key_text(twice[0])}")
    if missing:
        problems.append(f"{len(missing)} posts of the file not stored, e.g. "
                        f"{key_text(sorted(missing)[0])}")
    if extra:
        problems.append(f"{len(extra)} posts stored that the file does not have")
    unprocessed = [(c, e) for c, e, _, done, error, _ in rows if not done and not error]
    failed = [(c, e, error) for c, e, _, done, error, _ in rows if error]
    if unprocessed:
        problems.append(f"{len(unprocessed)} posts never processed, e.g. "
                        f"{key_text(unprocessed[0])}")
    if failed:
        problems.append(f"{len(failed)} posts set aside with an error, e.g. "
                        f"{failed[0][0]}:{failed[0][1]}: {failed[0][2][:200]}")
    untriaged = [(c, e) for c, e, direction, done, _, triaged in rows
                 if direction == "inbound" and done and not triaged]
    if untriaged:
        problems.append(f"{len(untriaged)} processed inbound posts have no triage row, e.g. "
                        f"{key_text(untriaged[0])}")
    inbound = sum(1 for row in rows if row[2] == "inbound")
    (triages,), = db.rows("SELECT COUNT(*) FROM triage_triage")
    if triages != inbound and not untriaged:
        problems.append(f"{triages} triage rows for {inbound} inbound posts")
    # A case whose posts all moved to another case is closed as merged; any other
    # case without a post, or opened twice, is a sign of work done twice.
    cases = db.rows("""
        SELECT c.id,
               (SELECT COUNT(*) FROM audit_event e
                WHERE e.case_id = c.id AND e.verb = 'case.opened'),
               (SELECT COUNT(*) FROM audit_event e
                WHERE e.case_id = c.id AND e.verb = 'case.merged'),
               (SELECT COUNT(*) FROM ingestion_post p WHERE p.case_id = c.id)
        FROM cases_case c""")
    empty = [case for case, _, merged, n in cases if not n and not merged]
    opened = [(case, n) for case, n, _, _ in cases if n != 1]
    if empty:
        problems.append(f"{len(empty)} cases without a post, not merged (case ids {empty[:5]})")
    if opened:
        problems.append(f"{len(opened)} cases not opened exactly once in the audit log, e.g. "
                        f"case {opened[0][0]}: {opened[0][1]} case.opened events")
    return problems


def compare_cases(db, clean) -> list[str]:
    cases, loose = canonical(db)
    clean_cases, clean_loose = clean
    hidden = set(db.rows("""
        SELECT p.channel, p.external_id FROM ingestion_post p
        JOIN triage_triage t ON t.post_id = p.id WHERE t.decision = 'hide'"""))

    def shown(posts) -> str:
        if not posts:
            return "{no case}"
        return "{" + ", ".join(key_text(k) + ("*" if k in hidden else "")
                               for k in sorted(posts)) + "}"

    problems = []
    here, there = cases - clean_cases, clean_cases - cases
    if here or there:
        case_of = {post: case for case in clean_cases for post in case}
        examples = []
        for case in sorted(here, key=sorted)[:3]:
            split = {case_of.get(post) for post in case}
            examples.append(f"{shown(case)} here; clean: "
                            + " + ".join(shown(c) for c in sorted(
                                split, key=lambda c: sorted(c) if c else [])))
        problems.append(f"cases differ from the clean run: {len(here)} cases only here, "
                        f"{len(there)} only in the clean run (of {len(clean_cases)}); "
                        + "; ".join(examples)
                        + ("; * hidden as spam" if "*" in "".join(examples) else ""))
    if loose != clean_loose:
        only_here, only_clean = loose - clean_loose, clean_loose - loose
        problems.append(
            f"posts in no case differ from the clean run: {len(only_here)} only here "
            f"({', '.join(map(key_text, sorted(only_here)[:3]))}), {len(only_clean)} only in "
            f"the clean run ({', '.join(map(key_text, sorted(only_clean)[:3]))})")
    return problems


def check_replies(db, outbox: Path) -> tuple[list[str], list[str]]:
    """Every reply sent once (and in the outbox once) or failed with a reason."""
    problems, notes = [], []
    replies = db.rows("SELECT id, status, last_error FROM cases_reply")
    delivered = Counter()
    for path in sorted(outbox.glob("*.jsonl")) if outbox.exists() else []:
        for line in path.read_text().splitlines():
            delivered[json.loads(line)["reply_id"]] += 1
    status = Counter(s for _, s, _ in replies)
    stuck = [(i, s) for i, s, _ in replies if s in ("queued", "sending")]
    if stuck:
        problems.append(f"{len(stuck)} replies still {'/'.join(sorted({s for _, s in stuck}))}")
    unexplained = [i for i, s, error in replies if s == "failed" and not error.strip()]
    if unexplained:
        problems.append(f"{len(unexplained)} failed replies without a reason")
    sent = {i for i, s, _ in replies if s == "sent"}
    not_out = [i for i in sent if delivered[i] == 0]
    if not_out:
        problems.append(f"{len(not_out)} replies marked sent are not in the outbox")
    twice = [i for i, n in delivered.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} replies delivered more than once (reply {twice[0]}: "
                        f"{delivered[twice[0]]} times)")
    unknown = delivered.keys() - {i for i, _, _ in replies}
    if unknown:
        problems.append(f"{len(unknown)} outbox lines for replies the desk does not have")
    (desk_posts,), = db.rows("SELECT COUNT(*) FROM ingestion_post WHERE source = 'desk'")
    if desk_posts != len(sent):
        problems.append(f"{desk_posts} brand posts recorded for {len(sent)} sent replies")
    failed_out = sum(1 for i, s, _ in replies if s == "failed" and delivered[i])
    notes.append(f"replies: {dict(sorted(status.items()))}"
                 + (f", {failed_out} failed after reaching the outbox" if failed_out else ""))
    return problems, notes


# --------------------------------------------------------------------------
# Desks
# --------------------------------------------------------------------------

class Outcome:
    def __init__(self, fault: str):
        self.fault, self.posts, self.recover = fault, 0, None
        self.started, self.wall = time.monotonic(), 0.0  # the whole run, set-up included
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.logs: list[Path] = []


class Desk:
    def __init__(self, bench: "Bench", name: str, db, env: dict, outbox: Path):
        self.bench, self.name, self.db, self.env, self.outbox = bench, name, db, env, outbox
        self.procs = bench.procs
        self.workers: list[subprocess.Popen] = []
        self.scheduler = None
        self.redis: PrivateRedis | None = None
        self.database: str | None = None  # a scratch database on the system server
        self.started_at = len(self.procs.started)

    def cli(self, label: str, *args: str, timeout: float = 300) -> tuple[int, str]:
        return self.procs.run(f"{self.name}-{label}", socialdesk(*args), self.env, timeout)

    def start(self, label: str, *args: str, **kwargs) -> subprocess.Popen:
        return self.procs.start(f"{self.name}-{label}", socialdesk(*args), self.env, **kwargs)

    def start_worker(self, wait: bool = True) -> subprocess.Popen:
        n = len(self.workers) + 1
        # On a shared broker, no gossip or mingle: nothing of the run is left bound
        # to the broker's shared exchanges.
        shared = () if self.redis else ("--without-gossip", "--without-mingle")
        worker = self.start("worker", "worker", f"--concurrency={self.bench.args.concurrency}",
                            f"--hostname=faults-{self.bench.tag}-{self.name}-{n}@%h", *shared)
        self.workers.append(worker)
        if wait and not wait_for(lambda: b"ready." in worker.log.read_bytes()
                                 or worker.poll() is not None, 120, 0.2):
            raise RuntimeError(f"the worker did not start: {tail(worker.log)}")
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited ({worker.returncode}): {tail(worker.log)}")
        return worker

    def start_scheduler(self) -> None:
        self.scheduler = self.start("scheduler", "scheduler")

    def wait_settled(self, expected: int, seconds: float, replies: bool = False) -> float | None:
        """Wait until every post of the file is stored and none waits (and, with
        `replies`, no reply is queued or sending); the time it happened, or None.
        Called once every import has ended: posts missing then never come."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = progress(self.db)
            if state and state[0] < expected:
                return None
            if state and state[1] == 0:
                if not replies:
                    return time.monotonic()
                statuses = reply_statuses(self.db)
                if statuses is not None and not statuses["queued"] and not statuses["sending"]:
                    return time.monotonic()
            time.sleep(0.25)
        return None

    def when(self, check, process: subprocess.Popen | None, seconds: float = 120) -> bool:
        """Poll the database until `check(progress)` holds; False if `process`
        ended (or the time ran out) first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = progress(self.db)
            if state and check(state):
                return True
            if process is not None and process.poll() is not None:
                return False
            time.sleep(POLL_S)
        return False

    def unexpected_exits(self, killed: set[int]) -> list[str]:
        problems = []
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.pid not in killed and process.poll() is not None:
                problems.append(f"{process.name} exited by itself ({process.returncode}): "
                                f"{tail(process.log, 3)}")
        return problems

    def logs(self) -> list[Path]:
        return [p.log for p in self.procs.started[self.started_at:]]


class Bench:
    def __init__(self, args):
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="socialdesk-faults-"))
        self.procs = Processes(self.root / "logs")
        self.tag = secrets.token_hex(4)
        self.scratch: list[tuple[str, str]] = []  # (admin URL, database)
        self.private_postgres: list[PrivatePostgres] = []
        self.records = posts(args.n, seed=args.seed)
        self.file = self.root / "posts.jsonl"
        self.file.write_bytes(b"".join(jsonl_bytes(self.records)))
        self.keys = {(r["channel"], r["external_id"]) for r in self.records}
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None
        self.redis_server = None if args.shared_redis else shutil.which("redis-server")
        self.pg_bindir = postgres_bindir(args.pg_bin)
        self.clean = None

    # -- environments ------------------------------------------------------

    def env(self, data: Path, **settings: str) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k.removesuffix("_FILE") not in DESK_VARIABLES}
        env.update(DJANGO_SETTINGS_MODULE="socialdesk.settings", SOCIALDESK_DATA_DIR=str(data),
                   OUTBOX_DIR=str(data / "outbox"), SECRET_KEY=f"faults-{self.tag}-{'x' * 40}",
                   PIPELINE_BATCH_SIZE=str(self.args.batch), TRIAGE_TIER="fast", **FAST_CLOCK)
        env.update(settings)
        return env

    def prepare(self, names: list[str]) -> None:
        """Migrate once into templates that each run's fresh desk is copied from."""
        # The clean run is embedded whatever the faults.
        data = self.root / "template-sqlite"
        jobs = [("sqlite", self.procs.start("migrate-sqlite", socialdesk("migrate"),
                                            self.env(data)), data)]
        if set(names) - {"embedded-import", "postgres"}:
            name = f"socialdesk_faults_{self.tag}_template"
            postgres_admin(self.args.postgres, f'CREATE DATABASE "{name}"')
            self.scratch.append((self.args.postgres, name))
            url = with_database(self.args.postgres, name)
            jobs.append(("postgres", self.procs.start(
                "migrate-postgres", socialdesk("migrate"),
                self.env(self.root / "template-pg", DATABASE_URL=url)), name))
        for kind, process, where in jobs:
            if process.wait(timeout=600) != 0:
                raise RuntimeError(f"migrate ({kind}) failed: {tail(process.log)}")
            if kind == "sqlite":
                self.sqlite_template = where / "socialdesk.sqlite3"
            else:
                self.pg_template = where

    def embedded_desk(self, name: str) -> Desk:
        data = self.root / name
        data.mkdir()
        shutil.copyfile(self.sqlite_template, data / "socialdesk.sqlite3")
        return Desk(self, name, SqliteReader(data / "socialdesk.sqlite3"), self.env(data),
                    data / "outbox")

    def scale_out_desk(self, name: str, postgres: PrivatePostgres | None = None) -> Desk:
        data = self.root / name
        data.mkdir()
        if postgres is None:
            database = f"socialdesk_faults_{self.tag}_{name.replace('-', '_')}"
            postgres_admin(self.args.postgres,
                           f'CREATE DATABASE "{database}" TEMPLATE "{self.pg_template}"')
            self.scratch.append((self.args.postgres, database))
            url = with_database(self.args.postgres, database)
        else:
            database, url = None, postgres.url("socialdesk")
        settings = {"DATABASE_URL": url, "CELERY_QUEUE": f"faults-{self.tag}-{name}"}
        desk = Desk(self, name, PostgresReader(url), self.env(data, **settings), data / "outbox")
        desk.database = database
        if self.redis_server:
            desk.redis = PrivateRedis(self.procs, data / "redis")
            desk.redis.start()
            desk.env["CELERY_BROKER_URL"] = desk.redis.url
        else:
            desk.env["CELERY_BROKER_URL"] = self.args.redis
        return desk

    def clean_run(self) -> Outcome:
        """The same file imported into a fresh embedded desk, with no fault: the
        cases every fault run must end with."""
        outcome = Outcome("clean")
        desk = self.embedded_desk("clean")
        started = time.monotonic()
        rc, output = desk.cli("import", "import", str(self.file))
        outcome.recover = time.monotonic() - started
        outcome.posts = len(self.records)
        if rc != 0:
            outcome.problems.append(f"import exited {rc}: {output}")
        outcome.problems += check_posts(desk.db, self.keys)
        self.clean = canonical(desk.db)
        cases, loose = self.clean
        outcome.notes.append(f"{len(cases)} cases, {len(loose)} posts in no case; "
                             f"import took {outcome.recover:.1f} s")
        outcome.recover = None
        outcome.logs = desk.logs()
        outcome.wall = time.monotonic() - outcome.started
        return outcome

    def drop(self, database: str) -> None:
        if self.args.keep:
            print(f"kept database {database} (drop it when done)")
            return
        url = next(url for url, name in self.scratch if name == database)
        try:
            postgres_admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        except Exception as e:  # noqa: BLE001 - report and go on with the rest
            print(f"warning: could not drop {database}: {e}", file=sys.stderr)
            return
        self.scratch.remove((url, database))

    def cleanup(self) -> None:
        self.procs.stop_all()
        for postgres in self.private_postgres:
            postgres.destroy()
        for _, database in list(reversed(self.scratch)):
            self.drop(database)
        if self.args.keep:
            print(f"logs and data kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------
# The fault runs
# --------------------------------------------------------------------------

def kill_point(rng: random.Random, n: int, batch: int) -> int:
    """A number of stored (or processed) posts to strike at: never the first or last batch."""
    return rng.randint(min(batch, n // 4), max(min(batch, n // 4), n - batch))


def run_embedded_import(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> None:
    n = len(bench.records)
    target, extra = kill_point(rng, n, bench.args.batch), rng.uniform(0, 0.2)
    importer = desk.start("import", "import", str(bench.file))
    desk.when(lambda s: s[0] >= target, importer)
    time.sleep(extra)
    fault_at = time.monotonic()
    if importer.poll() is None:
        importer.kill()  # the importer alone; its triage helpers must end by themselves
        importer.wait(timeout=10)
        stored, waiting, _ = progress(desk.db) or (0, 0, 0)
        outcome.notes.append(f"killed with {stored}/{n} stored, {stored - waiting} processed")
    else:
        outcome.notes.append(f"the import ended ({importer.returncode}) before the kill point")
    rc, output = desk.cli("reimport", "import", str(bench.file))
    if rc != 0:
        outcome.problems.append(f"the second import exited {rc}: {output}")
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - fault_at


def start_scale_out(desk: Desk) -> None:
    desk.start_scheduler()
    desk.start_worker()


def run_none(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> set[int]:
    n = len(bench.records)
    start_scale_out(desk)
    started = time.monotonic()
    rc, output = desk.cli("import", "import", str(bench.file))
    if rc != 0:
        outcome.problems.append(f"the import exited {rc}: {output}")
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - started
        outcome.notes.append("time from the import's start to all processed")
    return set()


def run_import(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> set[int]:
    n = len(bench.records)
    target, extra = kill_point(rng, n, bench.args.batch), rng.uniform(0, 0.1)
    pause = rng.uniform(0.2, 1.0)
    start_scale_out(desk)
    importer = desk.start("import", "import", str(bench.file))
    desk.when(lambda s: s[0] >= target, importer)
    time.sleep(extra)
    fault_at = time.monotonic()
    if importer.poll() is None:
        importer.kill()
        importer.wait(timeout=10)
        stored, waiting, _ = progress(desk.db) or (0, 0, 0)
        outcome.notes.append(f"importer killed with {stored}/{n} stored")
    else:
        outcome.notes.append(f"the import ended ({importer.returncode}) before the kill point")
    time.sleep(pause)
    rc, output = desk.cli("reimport", "import", str(bench.file))
    if rc != 0:
        outcome.problems.append(f"the second import exited {rc}: {output}")
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - fault_at
    return set()


def run_pool_child(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> set[int]:
    n = len(bench.records)
    kills = 3 if bench.args.quick else 5
    targets = sorted(rng.sample(range(1, n), kills))
    delays = [rng.uniform(0, 0.3) for _ in targets]
    start_scale_out(desk)
    worker = desk.workers[0]
    importer = desk.start("import", "import", str(bench.file))
    landed, fault_at = [], None
    for target, delay in zip(targets, delays, strict=True):
        desk.when(lambda s, t=target: s[0] - s[1] - s[2] >= t or (s[0] >= n and not s[1])
                  or failed(importer), None, 60)
        state = progress(desk.db)
        if state is None or (state[0] >= n and not state[1]) or failed(importer):
            break  # everything was processed before this kill point
        time.sleep(delay)
        pool = children(worker.pid)
        if not pool:
            continue
        victim = pool[rng.randrange(len(pool))]
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            continue
        fault_at = time.monotonic()
        landed.append(target)
    outcome.notes.append(f"{len(landed)} of {kills} pool children killed, at "
                         f"{', '.join(map(str, landed)) or '-'} posts processed")
    importer.wait(timeout=120)
    if importer.returncode != 0:
        outcome.problems.append(exited(importer))
    if not landed:
        outcome.problems.append("no kill landed: the run tested nothing")
        fault_at = time.monotonic()
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - fault_at
    return set()


def run_worker(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> set[int]:
    n = len(bench.records)
    target = rng.randint(n // 4, 3 * n // 4)
    delay, restart = rng.uniform(0, 0.3), rng.uniform(0.5, 2.0)
    start_scale_out(desk)
    worker = desk.workers[0]
    importer = desk.start("import", "import", str(bench.file))
    desk.when(lambda s: s[0] - s[1] - s[2] >= target or failed(importer), None, 120)
    if failed(importer):
        outcome.problems.append(exited(importer))
        return set()
    time.sleep(delay)
    stored, waiting, aside = progress(desk.db) or (0, 0, 0)
    Processes.signal_group(worker, signal.SIGKILL)  # main process and pool, like a lost machine
    worker.wait(timeout=10)
    fault_at = time.monotonic()
    outcome.notes.append(f"worker killed with {stored - waiting - aside}/{n} processed; "
                         f"a new one after {restart:.1f} s")
    time.sleep(restart)
    desk.start_worker(wait=False)
    importer.wait(timeout=120)
    if importer.returncode != 0:
        outcome.problems.append(exited(importer))
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - fault_at
    return {worker.pid}


def run_redis(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> set[int]:
    n = len(bench.records)
    target, extra = kill_point(rng, n, bench.args.batch), rng.uniform(0, 0.1)
    down = rng.uniform(1.0, 4.0)
    start_scale_out(desk)
    importer = desk.start("import", "import", str(bench.file))
    desk.when(lambda s: s[0] >= target, importer)
    time.sleep(extra)
    if importer.poll() is not None:
        outcome.notes.append("the import had ended before the kill point")
    stored, waiting, _ = progress(desk.db) or (0, 0, 0)
    desk.redis.kill()
    fault_at = time.monotonic()
    time.sleep(down)
    desk.redis.start()
    outcome.notes.append(f"Redis killed with {stored}/{n} stored, {stored - waiting} processed; "
                         f"down {time.monotonic() - fault_at:.1f} s")
    try:
        importer.wait(timeout=120)
    except subprocess.TimeoutExpired:
        outcome.problems.append("the import did not end within 120 s of the restart")
    if importer.returncode not in (0, 1):
        outcome.problems.append(exited(importer))
    elif importer.returncode == 1:
        outcome.notes.append("the import exited 1 (stored, not all queued)")
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - fault_at
    return set()


def run_postgres(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome,
                 server: PrivatePostgres) -> set[int]:
    n = len(bench.records)
    target, extra = kill_point(rng, n, bench.args.batch), rng.uniform(0, 0.1)
    down = rng.uniform(1.0, 4.0)
    start_scale_out(desk)
    importer = desk.start("import", "import", str(bench.file))
    desk.when(lambda s: s[0] >= target, importer)
    time.sleep(extra)
    if importer.poll() is not None:
        outcome.notes.append("the import had ended before the kill point")
    stored, waiting, _ = progress(desk.db) or (0, 0, 0)
    desk.db.close()
    fault_at = time.monotonic()
    server.stop()
    time.sleep(down)
    server.start()
    outcome.notes.append(f"PostgreSQL stopped with {stored}/{n} stored, {stored - waiting} "
                         f"processed; down {time.monotonic() - fault_at:.1f} s")
    try:
        importer.wait(timeout=120)
    except subprocess.TimeoutExpired:
        outcome.problems.append("the import did not end within 120 s of the restart")
    outcome.notes.append(f"the import exited {importer.returncode}")
    rc, output = desk.cli("reimport", "import", str(bench.file))
    if rc != 0:
        outcome.problems.append(f"the second import exited {rc}: {output}")
    done = desk.wait_settled(n, bench.args.wait)
    if done is not None:
        outcome.recover = done - fault_at
    return set()


# Run with a desk's environment: submits replies to open cases that have none yet,
# one JSON line per reply, `pause` seconds apart.
SUBMIT_REPLIES = r"""
import json, sys, time
import django
django.setup()
from socialdesk.accounts.models import User
from socialdesk.cases.actions import do_submit_reply, reply_findings
from socialdesk.cases.models import Case, Reply
from socialdesk.connectors.channels import channel

count, pause, username = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
user = User.objects.get(username=username)
text = "Sorry to hear that, we have sent you a private message to sort it out."
done = 0
cases = (Case.objects.filter(status__in=Case.OPEN_STATUSES)
         .exclude(id__in=Reply.objects.values("case_id")).order_by("id"))
for case in cases:
    if done == count:
        break
    visibility = "public" if channel(case.channel).public_replies else "private"
    findings = reply_findings(case, text, visibility)
    if any(f.blocking for f in findings):
        continue
    try:
        reply = do_submit_reply(case, user, text, visibility,
                                confirm_warnings=[f.check for f in findings])
    except Exception as e:
        print(json.dumps({"case": case.id, "skipped": f"{type(e).__name__}: {e}"}), flush=True)
        continue
    done += 1
    print(json.dumps({"case": case.id, "reply": reply.pk}), flush=True)
    time.sleep(pause)
print(json.dumps({"done": done}), flush=True)
"""

# The outbox sweep as the clock will run it once a reply left "sending" has waited
# SENDING_TIMEOUT: the script does not wait five minutes for it.
SWEEP_LATER = r"""
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from socialdesk.cases.outbox import SENDING_TIMEOUT, do_sweep_outbox
print(do_sweep_outbox(timezone.now() + SENDING_TIMEOUT + timedelta(seconds=1)).interrupted)
"""


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout, line by line, read on a thread (never blocks the run)."""
    lines: queue.Queue = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def submitted(lines: queue.Queue, count: int, seconds: float) -> tuple[list[int], bool]:
    """Reply ids read from the helper, up to `count` of them; whether it ended."""
    ids, deadline = [], time.monotonic() + seconds
    while len(ids) < count and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            return ids, True
        data = json.loads(line)
        if "reply" in data:
            ids.append(data["reply"])
    return ids, False


def run_replies(bench: Bench, desk: Desk, rng: random.Random, outcome: Outcome) -> set[int]:
    n = len(bench.records)
    first, second = (6, 10) if bench.args.quick else (10, 20)
    down = rng.uniform(1.0, 3.0)
    child_at, worker_at = sorted(rng.sample(range(1, second), 2))
    start_scale_out(desk)
    rc, output = desk.cli("import", "import", str(bench.file))
    if rc != 0 or desk.wait_settled(n, bench.args.wait) is None:
        outcome.problems.append(f"the desk was not processed before the replies ({rc}): {output}")
        return set()
    rc, output = desk.cli("createuser", "createuser", "faults_agent", "--role", "admin")
    if rc != 0:
        raise RuntimeError(f"createuser failed: {output}")
    submit = [sys.executable, "-c", SUBMIT_REPLIES]

    # The broker down while replies are queued: they wait for the outbox sweeper.
    if desk.redis:
        desk.redis.kill()
    fault_at = time.monotonic()
    helper = desk.procs.start(f"{desk.name}-replies", [*submit, str(first), "0", "faults_agent"],
                              desk.env, stdout=subprocess.PIPE)
    ids, _ = submitted(lines_of(helper), first + 1, 120)
    helper.wait(timeout=30)
    if desk.redis:
        time.sleep(down)
        desk.redis.start()
    outcome.notes.append(f"{len(ids)} replies queued with the broker down "
                         f"({time.monotonic() - fault_at:.1f} s)" if desk.redis else
                         f"{len(ids)} replies queued (a shared broker: not stopped)")

    # A pool child, then the whole worker, killed while replies are delivered.
    worker = desk.workers[0]
    helper = desk.procs.start(f"{desk.name}-replies", [*submit, str(second), "0.2",
                                                       "faults_agent"],
                              desk.env, stdout=subprocess.PIPE)
    lines = lines_of(helper)
    more, ended = submitted(lines, child_at, 60)
    pool = children(worker.pid)
    if pool and not ended:
        os.kill(pool[rng.randrange(len(pool))], signal.SIGKILL)
    got, ended = submitted(lines, worker_at - child_at, 60)
    more += got
    Processes.signal_group(worker, signal.SIGKILL)
    worker.wait(timeout=10)
    fault_at = time.monotonic()
    got, _ = submitted(lines, second, 120)
    more += got
    helper.wait(timeout=30)
    desk.start_worker(wait=False)
    outcome.notes.append(f"{len(more)} more replies; a pool child killed after {child_at}, "
                         f"the worker after {worker_at}")
    if not ids or not more:
        outcome.problems.append("too few open cases to reply to: the run tested little")

    outcome.recover = settle_replies(desk, n, bench.args.wait, fault_at, outcome)
    return {worker.pid}


def settle_replies(desk: Desk, n: int, seconds: float, fault_at: float,
                   outcome: Outcome) -> float | None:
    """Wait until every post is processed and no reply is queued or sending.

    A reply left "sending" by a worker killed while it delivered is failed by the
    outbox sweeper only SENDING_TIMEOUT later; once nothing else moves for 15 s,
    that sweep is run as the clock will run it then, rather than waited for."""
    deadline, still_since, sending = time.monotonic() + seconds, None, None
    while time.monotonic() < deadline:
        state, statuses = progress(desk.db), reply_statuses(desk.db)
        if state and statuses is not None and state[0] >= n and not state[1] \
                and not statuses["queued"]:
            if not statuses["sending"]:
                return time.monotonic() - fault_at
            if statuses["sending"] != sending:
                sending, still_since = statuses["sending"], time.monotonic()
            elif time.monotonic() - still_since > 15:
                took = time.monotonic() - fault_at
                rc, output = desk.procs.run(f"{desk.name}-sweep-later",
                                            [sys.executable, "-c", SWEEP_LATER], desk.env, 120)
                outcome.notes.append(f"{output} left sending by the killed worker, failed by "
                                     f"the outbox sweep run as of {SENDING_TIMEOUT_S} s later")
                return took
        else:
            sending = None
        time.sleep(0.25)
    return None


# The runs that need nothing but a scale-out desk; each returns the pids of the
# workers it killed on purpose.
SCALE_OUT_RUNS = {"none": run_none, "import": run_import, "pool-child": run_pool_child,
                  "worker": run_worker, "redis": run_redis, "replies": run_replies}


def run_one(bench: Bench, name: str, index: int) -> Outcome:
    rng = random.Random(f"{bench.args.seed}:{name}:{index}")
    outcome = Outcome(name)
    outcome.posts = len(bench.records)
    desk_name = f"{name}-{index}"
    killed: set[int] = set()
    server = None
    desk = None
    try:
        if name == "embedded-import":
            desk = bench.embedded_desk(desk_name)
            run_embedded_import(bench, desk, rng, outcome)
        else:
            if name == "postgres":
                server = PrivatePostgres(bench.procs, bench.pg_bindir)
                bench.private_postgres.append(server)
                server.init()
                server.start()
                postgres_admin(server.url("postgres"), 'CREATE DATABASE "socialdesk"')
                rc, output = bench.procs.run("migrate-private", socialdesk("migrate"), bench.env(
                    bench.root / f"{desk_name}-migrate", DATABASE_URL=server.url("socialdesk")))
                if rc:
                    raise RuntimeError(f"migrate failed: {output}")
            desk = bench.scale_out_desk(desk_name, server)
            if name == "postgres":
                killed = run_postgres(bench, desk, rng, outcome, server)
            else:
                killed = SCALE_OUT_RUNS[name](bench, desk, rng, outcome)
            outcome.problems += desk.unexpected_exits(killed)
        if outcome.recover is None:
            state = progress(desk.db)
            outcome.problems.append(f"not settled within {bench.args.wait:.0f} s (stored, "
                                    f"waiting, set aside: {state})")
        outcome.problems += check_posts(desk.db, bench.keys)
        outcome.problems += compare_cases(desk.db, bench.clean)
        if name == "replies":
            problems, notes = check_replies(desk.db, desk.outbox)
            outcome.problems += problems
            outcome.notes += notes
    except Exception as e:  # noqa: BLE001 - a run that breaks is a failed run, not the end
        outcome.problems.append(f"the run broke: {type(e).__name__}: {e}")
    finally:
        if desk is not None:
            outcome.logs = desk.logs()
            desk.db.close()
            # Workers and the scheduler before the broker they talk to.
            for process in reversed(desk.procs.started[desk.started_at:]):
                desk.procs.stop(process, grace=5)
            if desk.database and not bench.args.keep:
                bench.drop(desk.database)
            if desk.redis is None and "CELERY_BROKER_URL" in desk.env:
                forget(desk.env["CELERY_BROKER_URL"], f"faults-{bench.tag}-")
        outcome.wall = time.monotonic() - outcome.started
        if server is not None:
            server.destroy()
            bench.private_postgres.remove(server)
    return outcome


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def report(outcome: Outcome, index: int) -> None:
    took = f"{outcome.recover:.1f} s" if outcome.recover is not None else "-"
    state = "ok" if not outcome.problems else "FAILED"
    print(f"  {outcome.fault} #{index}: {state}, recovered in {took} (run {outcome.wall:.0f} s); "
          + "; ".join(outcome.notes), flush=True)
    for problem in outcome.problems:
        print(f"    - {problem}", flush=True)
    if outcome.problems:
        for log in outcome.logs:
            text = tail(log, 8)
            if text:
                print(f"    [{log.name}]\n" + "\n".join(f"      {line}" for line in
                                                       text.splitlines()), flush=True)


def table(results: dict[str, list[Outcome]]) -> str:
    header = ("fault", "runs", "posts", "time to recover", "result")
    rows = []
    for name, outcomes in results.items():
        times = [o.recover for o in outcomes if o.recover is not None]
        took = ("-" if not times else f"{min(times):.1f} s" if len(times) == 1
                else f"{min(times):.1f} – {max(times):.1f} s")
        failed = [o for o in outcomes if o.problems]
        result = ("ok" if not failed else
                  f"{len(failed)} of {len(outcomes)} failed: "
                  f"{' '.join(failed[0].problems[0].split())[:80]}")
        rows.append((name, str(len(outcomes)), str(outcomes[0].posts), took, result))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *map(line, rows)])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="faults:\n" + "\n".join(f"  {name:<16} {what}" for name, what in FAULTS.items()))
    parser.add_argument("--quick", action="store_true",
                        help=f"the CI version: {', '.join(QUICK)}, a few hundred posts")
    parser.add_argument("--seed", type=int, default=1, help="posts and kill points (default 1)")
    parser.add_argument("--only", nargs="+", choices=list(FAULTS), metavar="NAME",
                        help=f"these faults only: {', '.join(FAULTS)}")
    parser.add_argument("--runs", type=int, default=1, help="runs of each fault (default 1)")
    parser.add_argument("-n", type=int, help="posts in the file (default 1,000; quick 300)")
    parser.add_argument("--batch", type=int, default=25,
                        help="PIPELINE_BATCH_SIZE of every process (default 25)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool size (default 2)")
    parser.add_argument("--wait", type=float, default=120,
                        help="seconds a run may take to settle after its fault (default 120)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server to create (and drop) scratch databases on "
                             "(any database of it; default %(default)s)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                        help="a shared broker, used (with queues of the run's own) when "
                             "redis-server is not installed or with --shared-redis; the redis "
                             "fault then cannot run (default %(default)s)")
    parser.add_argument("--shared-redis", action="store_true",
                        help="use --redis rather than a redis-server of each run's own")
    parser.add_argument("--pg-bin", help="PostgreSQL's initdb and pg_ctl (for the postgres fault)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the logs, data directories and scratch databases (to look "
                             "into a failure)")
    args = parser.parse_args()
    args.n = args.n or (300 if args.quick else 1000)
    if not 50 <= args.n <= 100_000 or args.runs < 1 or args.batch < 1:
        parser.error("-n must be 50 to 100,000; --runs and --batch at least 1")
    names = args.only or list(QUICK if args.quick else FAULTS)

    # SIGTERM (a CI runner giving up) ends the run through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    results: dict[str, list[Outcome]] = {}
    bench = Bench(args)
    try:
        skipped = {}
        if "redis" in names and not bench.redis_server:
            skipped["redis"] = "needs a redis-server of its own to kill"
        if "postgres" in names and (bench.pg_bindir is None or os.geteuid() != 0
                                    or not shutil.which("runuser")):
            skipped["postgres"] = "needs PostgreSQL's initdb and pg_ctl, root and runuser"
        names = [n for n in names if n not in skipped]
        broker = "a redis-server of each run's own" if bench.redis_server else args.redis
        print(f"{args.n:,} synthetic posts (seed {args.seed}), batches of {args.batch}, "
              f"worker concurrency {args.concurrency}; broker: {broker}", flush=True)
        for name, why in skipped.items():
            print(f"  skipped {name}: {why}", flush=True)
        bench.prepare(names)
        print(f"  databases migrated ({time.monotonic() - started:.0f} s)", flush=True)
        clean = bench.clean_run()
        report(clean, 1)
        if clean.problems:
            results["clean"] = [clean]
        else:
            for name in names:
                results[name] = []
                for index in range(1, args.runs + 1):
                    outcome = run_one(bench, name, index)
                    report(outcome, index)
                    results[name].append(outcome)
    finally:
        bench.cleanup()
    print()
    print(table(results))
    failed = any(o.problems for outcomes in results.values() for o in outcomes)
    print(f"\n{'FAILED' if failed else 'ok'} in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
