"""Concurrent callers for tests: several threads, each with its own database
connection, released at the same moment.

Tests that use it need a transactional database (`transactional_db`): the
threads' connections cannot see a test's uncommitted transaction.
"""

import threading

import pytest
from django.db import connection


def skip_unless_concurrent_writers() -> None:
    """Skips the test on SQLite's in-memory test database.

    Its connections share one cache, whose table locks make a second writer fail
    at once ("database table is locked") instead of waiting its turn. On a file
    database (set DATABASES["default"]["TEST"]["NAME"]) the desk's settings make
    SQLite serialise the write transactions, and the tests run; on PostgreSQL
    the transactions really interleave, which is what they are for.
    """
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("concurrent writers need PostgreSQL or a file database: SQLite's "
                    "in-memory test database refuses a second writer instead of queueing it "
                    "(run with DATABASE_URL=postgres://…)")


def run_together(target, calls: list[tuple], timeout: float = 120) -> list:
    """target(*args) for each args in `calls`, each in a thread of its own, all
    started together; the results in the order of `calls`. A thread's exception
    is raised here."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def work(i: int, args: tuple) -> None:
        try:
            # Connect first, so that the barrier lines up the calls themselves.
            connection.ensure_connection()
            barrier.wait(timeout)
            results[i] = target(*args)
        except BaseException as e:  # re-raised in the calling thread
            errors.append(e)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, args)) for i, args in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a concurrent call did not finish"
    if errors:
        # A broken barrier is only the echo of the first thread's failure.
        raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)),
                   errors[0])
    return results
