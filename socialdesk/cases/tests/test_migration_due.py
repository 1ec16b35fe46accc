"""Cases stored before Case.sla_due_at existed get it from their clocks on upgrade."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from socialdesk.contacts.models import Contact

BEFORE = [("cases", "0003_sla_follow_ups_approvals")]
AFTER = [("cases", "0004_desk_fields")]
T = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_fills_each_open_cases_earliest_due_time():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Case, Clock = old.get_model("cases", "Case"), old.get_model("cases", "SlaClock")
    # Contacts' own tables stay as they are: the current model writes the row.
    contact_id = Contact.objects.create(name="carol").pk

    def case(*clocks):
        made = Case.objects.create(priority="P2", decision="respond", category="complaint",
                                   channel="x", contact_id=contact_id, subject="kettle",
                                   opened_at=T, last_inbound_at=T)
        for state, hours, stopped in clocks:
            Clock.objects.create(case=made, kind="first_response", state=state,
                                 target_seconds=3600, started_at=T,
                                 due_at=T + timedelta(hours=hours),
                                 stopped_at=T if stopped else None)
        return made.pk

    running = case(("active", 4, False), ("active", 2, False), ("hit", 1, True))
    overdue = case(("missed", 1, False))
    done = case(("hit", 1, True), ("paused", 3, False))
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("cases", "Case")
    due = dict(new.objects.values_list("pk", "sla_due_at"))
    assert due == {running: T + timedelta(hours=2), overdue: T + timedelta(hours=1),
                   done: None}
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
