"""Triage a large batch on several cores at once.

Enrichment is pure CPU and holds the GIL, so one process triages at one
core's speed. In the embedded mode, which has no workers, a batch is split
between this process and a small pool of helper processes. In the scale-out
mode the Celery workers are the parallelism and this stays at one process.

The policy and the topic matcher travel to the helpers with every chunk, so
both must pickle small: a TopicMatcher pickles as its specs and each helper
keeps the matcher it builds from them.
"""

import ctypes
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from socialdesk.triage import classify
from socialdesk.triage.engine import PostInput, TopicMatcher, TriageResult, triage_batch
from socialdesk.triage.language import detect_languages
from socialdesk.triage.policy import Policy

# Below this many posts per process, shipping them to a helper costs more
# than it saves.
MIN_PER_PROCESS = 200

logger = logging.getLogger(__name__)
_pool: ProcessPoolExecutor | None = None
# One per helper, done once it has started and loaded the models.
_warming: list[Future] = []


def _helpers(count: int) -> ProcessPoolExecutor:
    global _pool, _warming
    if _pool is None:
        # spawn, not fork: a forked child would inherit the parent's open
        # database connections and threads.
        _pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_die_with_parent, initargs=(os.getpid(),))
        _warming = [_pool.submit(_warm_up) for _ in range(count)]
    return _pool


def _warm_up() -> None:
    # In a helper: load what the first batch would otherwise wait for.
    classify.load(classify.default_tier())
    detect_languages(["warming up"])


def helpers_ready(processes: int) -> bool:
    """Whether the helpers are up, starting them if they are not.

    A helper takes a second or two to start (a new interpreter, its imports and
    models), more than this process takes to triage a batch; until they are up,
    batches are triaged here instead of waiting for them.
    """
    global _pool
    _helpers(processes - 1)
    if not all(future.done() for future in _warming):
        return False
    if any(future.exception() for future in _warming):
        logger.warning("a triage helper failed to start; triaging in this process",
                       exc_info=next(f.exception() for f in _warming if f.exception()))
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None  # tried again with the next batch
        return False
    return True


def wait_for_helpers(processes: int) -> None:
    """Start the helpers and wait until they are up (for measurements that must
    not count their start)."""
    if processes > 1:
        _helpers(processes - 1)
        for future in _warming:
            future.exception()


# Checked this often for a parent that went away without telling the helpers.
PARENT_CHECK_SECONDS = 1.0
# The signal Linux sends a helper when its parent goes (PR_SET_PDEATHSIG).
_PARENT_GONE = signal.SIGUSR1
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Make this helper exit when the process that started it is gone.

    A helper waits on a queue whose write end it holds itself, so it never sees
    the parent close it: without this, a desk killed by a signal it cannot
    handle (`kill -9`, the OOM killer) leaves its helpers running for ever, and
    with them multiprocessing's resource tracker, which exits once they have.

    A watcher thread checks every PARENT_CHECK_SECONDS that the helper still
    has the same parent (an orphan is handed to another process), on any
    system. On Linux the kernel also signals the helper the moment its parent
    goes (PR_SET_PDEATHSIG), so it exits at once. That signal also comes when
    only the parent's thread that started the helper ends, and the pool starts
    helpers from whichever thread submits work, so it is not fatal by itself:
    its handler makes the same check.
    """

    def exit_if_orphaned(*_signal) -> None:
        if os.getppid() != parent_pid:
            # os._exit: in the watcher sys.exit would end only that thread, and
            # the work in hand has nobody left to collect its results.
            os._exit(1)

    if sys.platform == "linux":
        # The initializer runs in the helper's main thread, which is the thread
        # the kernel signals and the one where Python runs signal handlers.
        signal.signal(_PARENT_GONE, exit_if_orphaned)
        _ask_for_signal_on_parent_death(_PARENT_GONE)
    threading.Thread(target=_watch, args=(exit_if_orphaned,), name="socialdesk-parent-watch",
                     daemon=True).start()


def _ask_for_signal_on_parent_death(signum: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(*(ctypes.c_ulong(arg) for arg in (_PR_SET_PDEATHSIG, signum, 0, 0, 0)))
    except (OSError, AttributeError):
        pass  # the watcher still notices, within PARENT_CHECK_SECONDS


def _watch(exit_if_orphaned: Callable[[], None]) -> None:
    # Checks first: the parent may have gone before the signal was asked for.
    while True:
        exit_if_orphaned()
        time.sleep(PARENT_CHECK_SECONDS)


def triage_spread(posts: list[PostInput], policy: Policy, processes: int,
                  topics: TopicMatcher | None = None, tier: str | None = None
                  ) -> list[TriageResult]:
    """`tier` names the classifier tier (default: TRIAGE_TIER)."""
    shares = min(processes, len(posts) // MIN_PER_PROCESS)
    if shares < 2 or not helpers_ready(processes):
        return triage_batch(posts, policy, topics, tier)
    chunks = _split(posts, shares)
    pool = _helpers(processes - 1)
    futures = [pool.submit(triage_batch, chunk, policy, topics, tier) for chunk in chunks[1:]]
    results = triage_batch(chunks[0], policy, topics, tier)
    for chunk, future in zip(chunks[1:], futures, strict=True):
        results.extend(_result_or_here(future, chunk, policy, topics, tier))
    return results


def _split(posts: list[PostInput], parts: int) -> list[list[PostInput]]:
    size = math.ceil(len(posts) / parts)
    return [posts[start:start + size] for start in range(0, len(posts), size)]


def _result_or_here(future: Future, chunk: list[PostInput], policy: Policy,
                    topics: TopicMatcher | None = None, tier: str | None = None
                    ) -> list[TriageResult]:
    """A helper's results, or the same work done here if the helper died.

    A helper can die, for instance when a script that imports socialdesk lacks
    the `if __name__ == "__main__":` guard that spawned processes need. The
    batch must still be triaged; the broken pool is replaced next time.
    """
    global _pool
    try:
        return future.result()
    except BrokenProcessPool:
        logger.warning("a triage helper process died; triaging its share in this process")
        _pool = None
        return triage_batch(chunk, policy, topics, tier)


def triage_in_background(posts: list[PostInput], policy: Policy, processes: int,
                         topics: TopicMatcher | None = None
                         ) -> Callable[[], list[TriageResult]]:
    """Start triaging in the helper processes; the returned function waits for the results.

    Used to triage the next batch while this process writes the previous one.
    """
    if processes < 2 or len(posts) < MIN_PER_PROCESS:
        return lambda: triage_batch(posts, policy, topics)
    if not helpers_ready(processes):
        done = triage_batch(posts, policy, topics)
        return lambda: done
    pool = _helpers(processes - 1)
    chunks = _split(posts, processes - 1)
    futures = [pool.submit(triage_batch, chunk, policy, topics) for chunk in chunks]
    return lambda: [result for chunk, future in zip(chunks, futures, strict=True)
                    for result in _result_or_here(future, chunk, policy, topics)]
