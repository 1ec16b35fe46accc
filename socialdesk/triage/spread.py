"""Triage a large batch on several cores at once.

Enrichment is pure CPU and holds the GIL, so one process triages at one
core's speed. In the embedded mode, which has no workers, a batch is split
between this process and a small pool of helper processes. In the scale-out
mode the Celery workers are the parallelism and this stays at one process.
"""

import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from socialdesk.triage.engine import PostInput, TriageResult, triage_batch
from socialdesk.triage.policy import Policy

# Below this many posts per process, shipping them to a helper costs more
# than it saves.
MIN_PER_PROCESS = 200

_pool: ProcessPoolExecutor | None = None


def _helpers(count: int) -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: a forked child would inherit the parent's open
        # database connections and threads.
        _pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def triage_spread(posts: list[PostInput], policy: Policy, processes: int) -> list[TriageResult]:
    shares = min(processes, len(posts) // MIN_PER_PROCESS)
    if shares < 2:
        return triage_batch(posts, policy)
    size = math.ceil(len(posts) / shares)
    chunks = [posts[start:start + size] for start in range(0, len(posts), size)]
    pool = _helpers(processes - 1)
    futures = [pool.submit(triage_batch, chunk, policy) for chunk in chunks[1:]]
    results = triage_batch(chunks[0], policy)
    for future in futures:
        results.extend(future.result())
    return results


def triage_in_background(posts: list[PostInput], policy: Policy,
                         processes: int) -> Callable[[], list[TriageResult]]:
    """Start triaging in the helper processes; the returned function waits for the results.

    Used to triage the next batch while this process writes the previous one.
    """
    if processes < 2 or len(posts) < MIN_PER_PROCESS:
        return lambda: triage_batch(posts, policy)
    helpers = processes - 1
    size = math.ceil(len(posts) / helpers)
    pool = _helpers(helpers)
    futures = [pool.submit(triage_batch, posts[start:start + size], policy)
               for start in range(0, len(posts), size)]
    return lambda: [result for future in futures for result in future.result()]
