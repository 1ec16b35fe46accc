import os
import subprocess
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from socialdesk.triage import spread
from socialdesk.triage.engine import PostInput, triage_batch
from socialdesk.triage.policy import default_policy


def test_a_dead_helpers_share_is_triaged_here():
    posts = [PostInput("x", str(i), "still waiting for my refund") for i in range(3)]
    dead = Future()
    dead.set_exception(BrokenProcessPool("helper died"))
    results = spread._result_or_here(dead, posts, default_policy())
    assert [r.external_id for r in results] == ["0", "1", "2"]
    assert [r.category for r in results] == [r.category for r in
                                             triage_batch(posts, default_policy())]


def test_small_batches_stay_in_this_process(monkeypatch):
    def no_helpers(count):
        raise AssertionError("a small batch must not start helper processes")

    monkeypatch.setattr(spread, "_helpers", no_helpers)
    posts = [PostInput("x", str(i), "how do I descale it?") for i in range(10)]
    assert spread.triage_spread(posts, default_policy(), processes=4)[0].category == "question"
    assert len(spread.triage_in_background(posts, default_policy(), processes=4)()) == 10


class NoPool:
    shut = False

    def submit(self, *args):
        raise AssertionError("helpers that are not up must not be given work")

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut = True


def test_until_the_helpers_are_up_batches_are_triaged_here(monkeypatch):
    starting = Future()
    pool = NoPool()
    monkeypatch.setattr(spread, "_pool", pool)
    monkeypatch.setattr(spread, "_warming", [starting])
    posts = [PostInput("x", str(i), f"order {i} never arrived")
             for i in range(2 * spread.MIN_PER_PROCESS)]
    expected = [r.category for r in triage_batch(posts, default_policy())]

    assert [r.category for r in spread.triage_in_background(posts, default_policy(), 2)()] \
        == expected
    assert [r.category for r in spread.triage_spread(posts, default_policy(), 2)] == expected

    starting.set_exception(OSError("could not start"))
    assert not spread.helpers_ready(2)
    assert pool.shut and spread._pool is None  # started afresh next time


def _encoder_threads(**env):
    environment = {k: v for k, v in os.environ.items() if k != "TRIAGE_ENCODER_THREADS"}
    run = subprocess.run(
        [sys.executable, "-c", "import os, socialdesk.settings as s; "
         "print(s.TRIAGE_ENCODER_THREADS, os.environ['TRIAGE_ENCODER_THREADS'])"],
        env=environment | env, capture_output=True, text=True)
    return run.stdout.split(), run.stderr


def test_each_triage_process_gives_the_encoder_its_share_of_the_cores():
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert _encoder_threads(TRIAGE_PROCESSES="2")[0] == [share, share]
    assert _encoder_threads(TRIAGE_PROCESSES="2", TRIAGE_ENCODER_THREADS="3")[0] == ["3", "3"]
    out, err = _encoder_threads(TRIAGE_ENCODER_THREADS="0")
    assert out == [] and "TRIAGE_ENCODER_THREADS=0" in err
