"""Helper processes end with the desk, however the desk ends.

A batch big enough to be spread over triage helpers (TRIAGE_PROCESSES=2) is
triaged by a real `socialdesk` process; once its helpers have triaged part of
it, the process is killed, and every process it started (the helpers and
multiprocessing's resource tracker) must be gone within seconds.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import own_desks_only_once, post, write_jsonl
from socialdesk.triage.spread import MIN_PER_PROCESS, PARENT_CHECK_SECONDS

pytestmark = [pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="finds child processes through /proc/PID/task/*/children (Linux)"),
    own_desks_only_once]

# Several batches of the triage command (1,000 posts each), each big enough to
# be shared with the helpers, so the process is still working when it is killed.
POSTS = 6000
assert POSTS // 1000 > 2 and 1000 >= 2 * MIN_PER_PROCESS
GONE_WITHIN = 3 * PARENT_CHECK_SECONDS + 2


def children(pid: int) -> set[int]:
    found = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(child) for child in path.read_text().split())
        except OSError:  # the thread ended meanwhile
            pass
    return found


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def helper_count(pids: set[int]) -> int:
    count = 0
    for pid in pids:
        try:
            count += b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            pass
    return count


def start_triage(tmp_path: Path) -> subprocess.Popen:
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        post(str(n), f"order {n}: the kettle stopped working after a week, really disappointed",
             author=f"customer{n % 300}") for n in range(POSTS)])
    env = {**os.environ, "SOCIALDESK_DATA_DIR": str(tmp_path / "data"), "TRIAGE_PROCESSES": "2",
           "TRIAGE_TIER": "fast"}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.Popen([sys.executable, "-m", "socialdesk.cli", "triage", str(posts)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def started_helpers(desk: subprocess.Popen) -> set[int]:
    """The desk's child processes, once its helpers have done some of the work."""
    # The first batch's decisions come out only after the helpers triaged their share.
    assert desk.stdout.readline(), "the triage command ended without output"
    pids = children(desk.pid)
    assert helper_count(pids) == 1, "expected one helper besides the desk's own process"
    assert desk.poll() is None, "the batch was too small: the command ended before the kill"
    return pids


def assert_all_gone(pids: set[int]) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in pids if running(pid)]
    for pid in left:  # not to leave them behind after a failure
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running {GONE_WITHIN} s after the desk: {left}"


def test_helpers_exit_when_the_desk_is_killed_with_sigkill(tmp_path):
    desk = start_triage(tmp_path)
    with desk:
        pids = started_helpers(desk)
        desk.kill()
        assert desk.wait(timeout=10) == -signal.SIGKILL
        assert_all_gone(pids)


def test_the_desk_shuts_its_helpers_down_on_sigterm(tmp_path):
    desk = start_triage(tmp_path)
    with desk:
        pids = started_helpers(desk)
        desk.terminate()
        desk.stdout.read()  # a pipe nobody drains could block its last writes
        # 143 (128 + SIGTERM): it exited through SystemExit, running its exit
        # handlers, rather than being ended by the signal.
        assert desk.wait(timeout=30) == 128 + signal.SIGTERM
        assert_all_gone(pids)


# Linux's parent-death signal also fires when only the parent's thread that
# started a helper ends; the pool starts helpers from whichever thread submits.
OUTLIVES_ITS_THREAD = """
import os, threading, time
from socialdesk.triage import spread

if __name__ == "__main__":
    first = []
    starter = threading.Thread(target=lambda: first.append(spread._helpers(1).submit(os.getpid)
                                                           .result()))
    starter.start()
    starter.join()
    time.sleep(2 * spread.PARENT_CHECK_SECONDS)
    print(first[0], spread._helpers(1).submit(os.getpid).result())
"""


def test_a_helper_outlives_the_thread_that_started_it(tmp_path):
    env = {**os.environ, "SOCIALDESK_DATA_DIR": str(tmp_path / "data"),
           "DJANGO_SETTINGS_MODULE": "socialdesk.settings"}
    result = subprocess.run([sys.executable, "-c", OUTLIVES_ITS_THREAD], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.split()
    assert before == after
