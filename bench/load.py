"""Load through the JSON API: sustained throughput, latency at a steady rate, workers' throughput.

    python bench/load.py --mode embedded --clients 4 --duration 30     # throughput
    python bench/load.py --mode scale-out --clients 16 --duration 30
    python bench/load.py --mode embedded --rate 200 --duration 30      # latency at a steady rate
    python bench/load.py --mode scale-out --rate 200 --duration 30 --workers 2
    python bench/load.py --mode scale-out --workers 2 --posts 20000    # workers working off a queue
    python bench/load.py --mode embedded --posts 20000                 # the same posts on one core

Each run sets up a fresh desk in a temporary data directory: the embedded mode
on SQLite there; the scale-out mode on a scratch PostgreSQL database the run
creates and drops (socialdesk_load_<pid> on --pg-server) and a Redis queue of
its own (socialdesk-load-<pid> on --broker). It migrates, creates an admin and
an API token with the CLI, serves the desk on a free port of 127.0.0.1 and, in
the scale-out mode, starts `socialdesk worker --concurrency 1 --pool prefork`
processes (--workers). Everything it started is stopped, and the scratch
database, queue and directory removed, however the run ends.

Which measurement runs follows from the options:

throughput (--clients C, default 4)
    C clients each send batches of --batch posts (default 100) to /api/v1/posts,
    one request after another, for --duration seconds (or until --max-posts are
    sent). Reports posts accepted per second, the requests' p50 and p99, and
    every answer that was not 2xx, by status, with a sample body.
latency (--rate R)
    R posts a second arrive for --duration seconds, in requests of --batch posts
    (default 20) sent on an open-loop schedule: each request leaves at its time
    whether or not earlier ones were answered. For each post, the time from its
    arrival to its processing (Post.processed_at, stamped when the post is filed
    in its case), read from the database once every post is processed or --wait
    seconds have passed. Reports p50 and p99 of that and of the requests.
workers (--posts K)
    Scale-out: K synthetic posts are stored with `socialdesk import` while no
    worker runs, queued as tasks of --batch posts (default 100, as API requests
    of 100 queue them); then --workers processes (one core each) work the queue
    off. Reports posts/s per worker process, from the first worker ready to the
    last post processed, and each worker's rate in its tasks after its first
    (which loads the models), from the durations in its log. Embedded, for
    comparison: `socialdesk import` of the same posts in batches of --batch
    with TRIAGE_PROCESSES=1, storing and processing on one core.

Other options: --server-threads (waitress threads of `socialdesk serve`,
default 8), --request-timeout, --wait, --seed.
"""

import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import posts  # noqa: E402

HOST = "127.0.0.1"
USER = "loadbench"
SOCIALDESK = [sys.executable, "-m", "socialdesk.cli"]
# Variables of the caller's environment that would point the desk elsewhere.
DESK_VARIABLES = ("SOCIALDESK_DATA_DIR", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_QUEUE",
                  "TRIAGE_PROCESSES", "PIPELINE_BATCH_SIZE", "API_MAX_BATCH", "DEBUG")
# Keys Celery's Redis transport keeps beside the queues; removed after a run that
# created them (the scratch queue's own keys carry its name).
BROKER_BOOKKEEPING = ("_kombu.binding_deadlines", "_kombu.binding.celery.pidbox",
                      "_kombu.binding_permanent.celery.pidbox", "unacked", "unacked_index",
                      "unacked_mutex")
TASK_DONE = re.compile(r"Task pipeline\.process_posts\[[^\]]+\] succeeded in ([0-9.]+)s: (\d+)")


def main() -> None:
    args = parse_args()
    # A plain `kill` runs the same clean-up as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    measure = "workers" if args.posts else "latency" if args.rate else "throughput"
    with Desk(args.mode, args, server=measure != "workers") as desk:
        if measure == "throughput":
            throughput(desk, args)
        elif measure == "latency":
            latency(desk, args)
        else:
            workers(desk, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--mode", choices=["embedded", "scale-out"], default="embedded")
    parser.add_argument("--clients", type=int, help="throughput: concurrent clients (default 4)")
    parser.add_argument("--rate", type=int, help="latency: posts a second")
    parser.add_argument("--posts", type=int, help="workers: posts to work off")
    parser.add_argument("--workers", type=int, default=1,
                        help="scale-out: worker processes, one core each (default 1)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of sending")
    parser.add_argument("--batch", type=int,
                        help="posts a request or task (default 20 latency, else 100)")
    parser.add_argument("--max-posts", type=int, default=200_000,
                        help="throughput: stop after this many posts (default 200,000)")
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--request-timeout", type=float, default=120)
    parser.add_argument("--wait", type=float,
                        help="seconds to wait for processing after the last request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432",
                        help="scale-out: where the scratch database is created")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7",
                        help="scale-out: the Redis database of the scratch queue")
    args = parser.parse_args()
    chosen = [name for name in ("clients", "rate", "posts") if getattr(args, name) is not None]
    if len(chosen) > 1:
        parser.error("--clients, --rate and --posts choose the measurement: give one")
    args.clients = args.clients or 4
    args.batch = args.batch or (20 if args.rate else 100)
    checks = [(1 <= args.clients <= 256, "--clients must be 1 to 256"),
              (args.rate is None or 1 <= args.rate <= 20_000, "--rate must be 1 to 20,000"),
              (args.posts is None or 1 <= args.posts <= 1_000_000,
               "--posts must be 1 to 1,000,000"),
              (1 <= args.workers <= 32, "--workers must be 1 to 32"),
              (0 < args.duration <= 3600, "--duration must be up to 3,600 s"),
              (1 <= args.batch <= 1000, "--batch must be 1 to 1,000 (API_MAX_BATCH)"),
              (1 <= args.max_posts <= 2_000_000, "--max-posts must be 1 to 2,000,000"),
              (args.wait is None or 0 <= args.wait <= 7200, "--wait must be up to 7,200 s")]
    for ok, message in checks:
        if not ok:
            parser.error(message)
    if args.mode == "embedded" and args.workers != 1:
        parser.error("--workers is for the scale-out mode (the embedded mode has no workers)")
    if args.rate and args.rate * args.duration / args.batch > 100_000:
        parser.error("more than 100,000 requests: lower --rate or --duration, or raise --batch")
    return args


# The desk under test ---------------------------------------------------------------------

class Desk:
    """A fresh desk, its server and workers; `with` stops them and removes what it made."""

    def __init__(self, mode: str, args: argparse.Namespace, server: bool = True):
        self.mode, self.args, self.with_server = mode, args, server
        self.processes: dict[str, subprocess.Popen] = {}
        self.port = 0
        self.token = ""
        self.scratch_database = ""
        self.queue = ""
        self.broker_keys: set[str] = set()
        self.db: Database | None = None

    def __enter__(self) -> "Desk":
        self.dir = Path(tempfile.mkdtemp(prefix="socialdesk-load-"))
        try:
            self.env = self.environment()
            if self.mode == "scale-out":
                self.note_broker_keys()
                self.create_database()
            self.cli("migrate")
            self.cli("createuser", USER, "--role", "admin")
            self.token = self.cli("token", USER).split()[-1]
            self.db = Database(self.env.get("DATABASE_URL"), self.dir / "socialdesk.sqlite3")
            if self.with_server:
                self.start_server()
                if self.mode == "scale-out":
                    self.start_workers(self.args.workers)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if isinstance(error, Exception):
            self.print_logs()
        try:
            stop(list(self.processes.values()))
        finally:
            if self.db is not None:
                self.db.close()
            if self.scratch_database:
                self.drop_database()
            if self.queue:
                self.delete_queue()
            shutil.rmtree(self.dir, ignore_errors=True)

    def environment(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in DESK_VARIABLES and k.removesuffix("_FILE") not in DESK_VARIABLES}
        env["SOCIALDESK_DATA_DIR"] = str(self.dir)
        env["PYTHONUNBUFFERED"] = "1"
        if self.mode == "scale-out":
            self.scratch_database = f"socialdesk_load_{os.getpid()}"
            self.queue = f"socialdesk-load-{os.getpid()}"
            env["DATABASE_URL"] = f"{self.args.pg_server.rstrip('/')}/{self.scratch_database}"
            env["CELERY_BROKER_URL"] = self.args.broker
            env["CELERY_QUEUE"] = self.queue
        return env

    def note_broker_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(self.args.broker, socket_timeout=5)
        self.broker_keys = {name for name in BROKER_BOOKKEEPING if client.exists(name)}

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.args.pg_server.rstrip('/')}/postgres", autocommit=True,
                             connect_timeout=10) as server:
            server.execute(f'CREATE DATABASE "{self.scratch_database}"')

    def drop_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(f"{self.args.pg_server.rstrip('/')}/postgres", autocommit=True,
                                 connect_timeout=10) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{self.scratch_database}" WITH (FORCE)')
        except psycopg.Error as e:
            print(f"could not drop the scratch database {self.scratch_database}: {e}",
                  file=sys.stderr)

    def delete_queue(self) -> None:
        """The queue's keys, and the broker's bookkeeping keys the run created."""
        import redis

        try:
            client = redis.Redis.from_url(self.args.broker, socket_timeout=5)
            names = set(client.scan_iter(match=f"*{self.queue}*", count=1000))
            names |= {name for name in BROKER_BOOKKEEPING
                      if name not in self.broker_keys and client.exists(name)}
            if names:
                client.delete(*names)
        except redis.RedisError as e:
            print(f"could not delete the scratch queue {self.queue}: {e}", file=sys.stderr)

    def queued_tasks(self) -> int:
        import redis

        return redis.Redis.from_url(self.args.broker, socket_timeout=5).llen(self.queue)

    def cli(self, *argv: str, env: dict | None = None, timeout: float = 600) -> str:
        done = subprocess.run([*SOCIALDESK, *argv], env=env or self.env, cwd=self.dir,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            sys.exit(f"socialdesk {' '.join(argv)} failed ({done.returncode}):\n"
                     f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done.stdout

    def spawn(self, name: str, *argv: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - the child holds it
        # A session of its own: the process and its helpers are stopped together.
        process = subprocess.Popen([*SOCIALDESK, *argv], env=env or self.env, cwd=self.dir,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
        log.close()
        self.processes[name] = process
        return process

    def start_server(self) -> None:
        self.port = free_port()
        process = self.spawn("server", "serve", "--host", HOST, "--port", str(self.port),
                             "--threads", str(self.args.server_threads))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"socialdesk serve exited ({process.returncode})")
            if self.answers("/healthz/live") == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("socialdesk serve did not become ready in 120 s")

    def answers(self, path: str) -> int | None:
        """The status of GET `path`, None while nothing answers. A build without
        /healthz/live answers a liveness check at /healthz."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            connection.request("GET", path)
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        return self.answers("/healthz") if status == 404 and path != "/healthz" else status

    def start_workers(self, count: int) -> float:
        """Start `count` workers; returns when the first was ready (time.time())."""
        names = [f"worker-{i}" for i in range(1, count + 1)]
        for name in names:
            self.spawn(name, "worker", "--concurrency", "1", "--pool", "prefork",
                       "--hostname", f"load-{name}@%h", "--without-gossip", "--without-mingle")
        ready: dict[str, float] = {}
        deadline = time.monotonic() + 120
        while len(ready) < count and time.monotonic() < deadline:
            for name in names:
                if name in ready:
                    continue
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited ({self.processes[name].returncode})")
                if b" ready." in (self.dir / f"{name}.log").read_bytes():
                    ready[name] = time.time()
            time.sleep(0.1)
        if len(ready) < count:
            raise RuntimeError("the workers did not become ready in 120 s")
        return min(ready.values())

    def worker_tasks(self) -> list[list[tuple[int, float]]]:
        """Per worker, its tasks in order: (posts processed, seconds), from its log."""
        return [[(int(n), float(seconds)) for seconds, n in
                 TASK_DONE.findall((self.dir / f"{name}.log").read_text(errors="replace"))]
                for name in self.processes if name.startswith("worker-")]

    def wait_processed(self, timeout: float) -> int:
        """Wait until no stored post waits for processing, or `timeout`; returns how many wait."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = self.db.waiting()
            if not waiting or time.monotonic() >= deadline:
                return waiting
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode})")
            time.sleep(0.5)

    def print_logs(self) -> None:
        for name in self.processes:
            log = self.dir / f"{name}.log"
            if log.exists():
                tail = log.read_text(errors="replace")[-3000:]
                print(f"--- the end of {name}'s log ---\n{tail}", file=sys.stderr)


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each process's session (it and its helpers); SIGKILL to what is left
    after 20 s."""
    running = [p for p in processes if p.poll() is None]
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        for process in running:
            signal_session(process, sig)
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        running = [p for p in running if p.poll() is None]
        if not running:
            break
    # Helpers (triage, a worker's pool) that outlived their parent.
    for process in processes:
        signal_session(process, signal.SIGKILL)


def signal_session(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Database:
    """Read-only questions to the desk's database, straight through its driver."""

    def __init__(self, url: str | None, sqlite_path: Path):
        if url:
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True)
            self.epoch = "extract(epoch from {})::float8"
        else:
            self.connection = sqlite3.connect(sqlite_path, timeout=30, isolation_level=None)
            self.epoch = "(julianday({}) - 2440587.5) * 86400.0"

    def rows(self, sql: str) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return cursor.fetchall()

    def waiting(self) -> int:
        return self.rows("SELECT count(*) FROM ingestion_post "
                         "WHERE processed_at IS NULL AND process_error = ''")[0][0]

    def set_aside(self) -> int:
        return self.rows("SELECT count(*) FROM ingestion_post WHERE process_error <> ''")[0][0]

    def processed_times(self) -> dict[str, float | None]:
        """external_id → processed_at as a Unix time (None while unprocessed)."""
        return dict(self.rows(f"SELECT external_id, {self.epoch.format('processed_at')} "
                              "FROM ingestion_post"))

    def span(self) -> tuple[float, float, int]:
        """First ingested_at, last processed_at (Unix times), and posts stored."""
        return self.rows(f"SELECT min({self.epoch.format('ingested_at')}), "
                         f"max({self.epoch.format('processed_at')}), count(*) "
                         "FROM ingestion_post")[0]

    def first_processed(self) -> tuple[float, int]:
        """When the first batch was processed, and its size (a batch shares one time)."""
        return self.rows(f"SELECT {self.epoch.format('processed_at')}, count(*) "
                         "FROM ingestion_post GROUP BY processed_at "
                         "HAVING processed_at IS NOT NULL ORDER BY processed_at LIMIT 1")[0]

    def close(self) -> None:
        self.connection.close()


# The clients -----------------------------------------------------------------------------

class Client:
    """One keep-alive connection to the desk's API; reconnects after a failure."""

    def __init__(self, port: int, token: str, timeout: float):
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> tuple[int | str, bytes, float]:
        """(status, or the error's name; body; seconds) of one POST /api/v1/posts."""
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port,
                                                             timeout=self.timeout)
            self.connection.request("POST", "/api/v1/posts", body, self.headers)
            response = self.connection.getresponse()
            payload = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, payload, time.perf_counter() - started
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return type(e).__name__, str(e).encode(), time.perf_counter() - started

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Tally:
    """Answers by status: counts, the posts created, one sample body per failing status."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.samples: dict = {}
        self.seconds: list[float] = []
        self.created = 0
        self.rejected = 0

    def add(self, status, body: bytes, seconds: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.seconds.append(seconds)
            if isinstance(status, int) and 200 <= status < 300:
                try:
                    answer = json.loads(body)
                    self.created += answer["created"]
                    self.rejected += answer["rejected"]
                except (ValueError, KeyError, TypeError):
                    self.samples.setdefault(f"{status}, unreadable",
                                            body[:400].decode(errors="replace"))
            else:
                self.samples.setdefault(status, body[:400].decode(errors="replace"))

    def errors(self) -> str:
        failed = {s: n for s, n in self.statuses.items()
                  if not (isinstance(s, int) and 200 <= s < 300)}
        return ", ".join(f"{n:,} × {s}" for s, n in sorted(failed.items(), key=str)) or "none"

    def print_samples(self) -> None:
        for status, body in self.samples.items():
            print(f"  a {status} answer: {body}")


def batches(count: int, size: int, seed: int, prefix: str = "") -> list[list[dict]]:
    """`count` synthetic posts in batches; external ids are unique within a run."""
    records = posts(count, seed)
    if prefix:
        for r in records:
            r["external_id"] = prefix + r["external_id"]
            if "in_reply_to" in r:
                r["in_reply_to"] = prefix + r["in_reply_to"]
    return [records[i:i + size] for i in range(0, len(records), size)]


def warm_up(desk: Desk, args: argparse.Namespace) -> None:
    """One request, processed, before timing: models load on first use."""
    client = Client(desk.port, desk.token, args.request_timeout)
    for batch in batches(args.batch, args.batch, args.seed + 1, prefix="warm-"):
        status, body, _ = client.post(json.dumps({"records": batch}).encode())
        if status != 200:
            raise RuntimeError(f"the warm-up request failed: {status} {body[:400]!r}")
    client.close()
    if desk.wait_processed(120):
        raise RuntimeError("the warm-up posts were not processed in 120 s")


# The measurements ------------------------------------------------------------------------

def throughput(desk: Desk, args: argparse.Namespace) -> None:
    work = batches(args.max_posts, args.batch, args.seed)
    bodies = iter(work)
    take = threading.Lock()
    tally = Tally()
    warm_up(desk, args)
    deadline = time.monotonic() + args.duration

    def client_loop() -> None:
        client = Client(desk.port, desk.token, args.request_timeout)
        while time.monotonic() < deadline:
            with take:
                batch = next(bodies, None)
            if batch is None:
                break
            tally.add(*client.post(json.dumps({"records": batch}).encode()))
        client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.duration + args.request_timeout + 10)
    elapsed = time.monotonic() - started
    waiting = desk.db.waiting()
    stored = desk.db.span()[2]
    rows = [
        ("posts accepted (created)", f"{tally.created:,}"),
        ("posts/s accepted", f"{tally.created / elapsed:,.0f}"),
        ("requests", f"{sum(tally.statuses.values()):,} in {elapsed:.1f} s"),
        ("request p50 / p99", f"{ms(percentile(tally.seconds, 50))} / "
                              f"{ms(percentile(tally.seconds, 99))}"),
        ("errors (non-2xx)", tally.errors()),
        ("records rejected in 2xx answers", f"{tally.rejected:,}"),
        ("processed when sending stopped", f"{stored - waiting:,} of {stored:,} stored"),
    ]
    if tally.created >= args.max_posts - args.batch:
        rows.append(("note", f"stopped early: all {args.max_posts:,} posts were sent"))
    print_table(f"{args.mode}, throughput: {args.clients} clients, batches of {args.batch}, "
                f"{args.duration:g} s", rows)
    tally.print_samples()


def latency(desk: Desk, args: argparse.Namespace) -> None:
    count = max(1, round(args.rate * args.duration))
    work = batches(count, args.batch, args.seed)
    interval = args.batch / args.rate
    arrivals: dict[str, float] = {}
    lags: list[float] = []
    tally = Tally()
    local = threading.local()
    warm_up(desk, args)

    def send(batch: list[dict], due: float) -> None:
        if not hasattr(local, "client"):
            local.client = Client(desk.port, desk.token, args.request_timeout)
        lags.append(time.time() - due)
        tally.add(*local.client.post(json.dumps({"records": batch}).encode()))

    # Open loop: each request is handed to a free sender at its time, whatever
    # became of the earlier ones; enough senders that none waits for another.
    senders = min(256, max(16, math.ceil(4 * len(work) / max(1, args.duration))))
    start = time.time() + 0.5
    pool = ThreadPoolExecutor(senders)
    try:
        for i, batch in enumerate(work):
            due = start + i * interval
            time.sleep(max(0.0, due - time.time()))
            for record in batch:
                arrivals[record["external_id"]] = due
            pool.submit(send, batch, due)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    sent = time.time() - start
    wait = args.wait if args.wait is not None else max(60, args.duration)
    waiting = desk.wait_processed(wait)
    processed = desk.db.processed_times()
    filed = [(processed.get(x) or math.inf) - at for x, at in arrivals.items()]
    unfiled = sum(math.isinf(s) for s in filed)
    set_aside = desk.db.set_aside()
    rows = [
        ("posts sent", f"{count:,} in {len(work):,} requests, over {sent:.1f} s"),
        ("arrival → filed p50 / p99", f"{secs(percentile(filed, 50))} / "
                                       f"{secs(percentile(filed, 99))}"),
        ("arrival → filed max", secs(max(filed))),
        ("request p50 / p99", f"{ms(percentile(tally.seconds, 50))} / "
                              f"{ms(percentile(tally.seconds, 99))}"),
        ("errors (non-2xx)", tally.errors()),
        ("posts created", f"{tally.created:,}"),
        ("posts not filed", f"{unfiled:,}" + (f" ({waiting:,} still waiting after {wait:g} s)"
                                              if waiting else "")
         + (f", {set_aside:,} set aside with an error" if set_aside else "")),
        ("sends behind schedule, max", ms(max(lags))),
    ]
    print_table(f"{args.mode}, latency: {args.rate} posts/s in requests of {args.batch}, "
                f"{args.duration:g} s", rows)
    tally.print_samples()


def workers(desk: Desk, args: argparse.Namespace) -> None:
    lines = [json.dumps(r) + "\n" for batch in batches(args.posts, 1000, args.seed) for r in batch]
    source = desk.dir / "posts.jsonl"
    source.write_text("".join(lines))
    wait = args.wait if args.wait is not None else args.posts / 20 + 60
    # One task per batch, as the API queues one per request.
    batch = str(args.batch)
    if args.mode == "embedded":
        started = time.time()
        desk.cli("import", str(source), "--quiet", timeout=wait,
                 env={**desk.env, "TRIAGE_PROCESSES": "1", "PIPELINE_BATCH_SIZE": batch})
        command = time.time() - started
        first, last, stored = desk.db.span()
        first_done, first_batch = desk.db.first_processed()
        rows = [
            ("posts", f"{stored:,}"),
            ("stored and processed, one core",
             f"{stored / (last - first):,.0f} posts/s ({last - first:.1f} s)"),
            ("the same after the first batch", rate(stored - first_batch, last - first_done)),
            ("the import command, start to exit", f"{command:.1f} s"),
        ]
        print_table(f"embedded, `socialdesk import` with TRIAGE_PROCESSES=1, "
                    f"{args.posts:,} posts in batches of {args.batch}", rows)
        return
    started = time.time()
    desk.cli("import", str(source), "--quiet", timeout=wait,
             env={**desk.env, "PIPELINE_BATCH_SIZE": batch})
    stored = desk.db.span()[2]
    tasks = desk.queued_tasks()
    stored_in = time.time() - started
    ready = desk.start_workers(args.workers)
    waiting = desk.wait_processed(wait)
    last = desk.db.span()[1]
    set_aside = desk.db.set_aside()
    done = stored - waiting - set_aside
    if not done:
        raise RuntimeError(f"no post was processed in {wait:g} s")
    per_worker = desk.worker_tasks()
    # Each worker's first task loads the models; the rate after it is the steady one.
    busy = [rate(sum(n for n, _ in t[1:]), sum(s for _, s in t[1:])) for t in per_worker]
    rows = [
        ("posts stored and queued", f"{stored:,} in {tasks:,} tasks "
                                    f"(the import command took {stored_in:.1f} s)"),
        ("processed", f"{done:,}" + (f" ({waiting:,} still waiting after {wait:g} s)"
                                     if waiting else "")
         + (f", {set_aside:,} set aside with an error" if set_aside else "")),
        ("first worker ready → last post processed", f"{last - ready:.1f} s"),
        ("all workers", rate(done, last - ready)),
        ("per worker process", rate(done / args.workers, last - ready)),
        ("each worker in its tasks, after its first", ", ".join(busy)),
    ]
    print_table(f"scale-out, {args.workers} worker(s) with --concurrency 1 working off "
                f"{args.posts:,} posts in tasks of {args.batch}", rows)


# Reporting -------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f} posts/s" if seconds > 0 else "–"


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:,.0f} ms"


def secs(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return "not filed" if math.isinf(seconds) else f"{seconds:,.2f} s"


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; everything the run started is stopped and removed")
