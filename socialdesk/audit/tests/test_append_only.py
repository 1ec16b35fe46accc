import pytest
from django.db import DatabaseError, connection, transaction

from socialdesk.audit.actions import do_record
from socialdesk.audit.models import AppendOnlyError, Event


def test_the_audit_log_refuses_changes_through_the_orm(db):
    event = do_record("case.assigned", why="test")
    event.verb = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.all().update(verb="changed")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()


def test_the_database_refuses_changes_to_the_audit_log(db):
    do_record("case.assigned", why="test")
    for sql in ("UPDATE audit_event SET verb = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Event.objects.get().verb == "case.assigned"
