"""Handing work to the broker, and asking it how it is, without ever waiting on it for long.

Every call here is bounded by the broker timeouts in settings (BROKER_TIMEOUT_SECONDS).
A broker fault never reaches the caller as an exception: the work it was asked to
queue is already stored, and the sweepers (pipeline.sweep_posts, cases.outbox) queue
it again once the broker is back.
"""

import logging
import socket

from django.conf import settings
from kombu.exceptions import ChannelError, KombuError, OperationalError

logger = logging.getLogger(__name__)

# What a broker that is down, refuses, or does not answer raises through kombu and
# the client libraries beneath it (redis-py's errors are ConnectionError subclasses
# of its own, which kombu wraps as OperationalError on publish).
BROKER_DOWN = (OperationalError, KombuError, ConnectionError, TimeoutError, socket.timeout,
               OSError)


def enqueue(task, *args) -> bool:
    """Send `task(*args)` to the workers (or run it here in the embedded mode).
    False, with a warning in the log, when the broker could not take it."""
    if not settings.SCALE_OUT:
        task.delay(*args)
        return True
    try:
        task.apply_async(args, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY)
    except BROKER_DOWN as e:
        logger.warning("could not queue %s: %s; it will be queued again by the sweeper",
                       task.name, e)
        return False
    return True


def queue_length(name: str | None = None) -> int | None:
    """Messages waiting in the queue (not those a worker holds), or None when the
    broker cannot say."""
    from socialdesk.celery import app

    name = name or settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=settings.BROKER_TIMEOUT_SECONDS)
            try:
                return connection.default_channel.queue_declare(
                    queue=name, passive=True).message_count
            except ChannelError:
                return 0  # a queue that does not exist (Redis: one never used) is empty
    except BROKER_DOWN as e:
        logger.warning("could not read the length of queue %s: %s", name, e)
        return None


def broker_problem() -> str | None:
    """None when the broker answers; else what is wrong, for /healthz."""
    from socialdesk.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=settings.BROKER_TIMEOUT_SECONDS)
            connection.default_channel  # noqa: B018 - opening a channel talks to the broker
    except BROKER_DOWN as e:
        return f"{type(e).__name__}: {e}"[:300]
    return None
