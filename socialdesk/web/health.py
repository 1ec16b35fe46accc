"""What /healthz checks: the database and, in the scale-out mode, the broker."""

from django.conf import settings
from django.db import DatabaseError, connection

from socialdesk.lib import queue

NOT_USED = "not used"


def database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        return f"{type(e).__name__}: {e}"[:300]
    return None


def readiness() -> dict[str, str]:
    """Each dependency: "ok", "not used", or what is wrong with it."""
    return {
        "database": database_problem() or "ok",
        "broker": (queue.broker_problem() or "ok") if settings.SCALE_OUT else NOT_USED,
    }
