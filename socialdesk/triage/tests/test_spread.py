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
