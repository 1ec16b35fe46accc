"""SLA clock: one evaluation over many open cases, seconds per tick.

    python bench/clock.py -n 100000                    # embedded (SQLite in a temp dir)
    DATABASE_URL=postgres://... python bench/clock.py -n 100000 --reset

Builds N open cases with three clocks each (first response, resolution, and a
reply window on Meta channels or a next-response clock elsewhere), in a few
teams with supervisors, agents and breach policies. 5% of the clocks warned
earlier; the rest are due later, except that at each of three ticks a minute
apart a fresh 1% of the cases reach a warning and another 1% a breach.

Measured: the wall time of `do_evaluate_clocks(now)` alone, from the call to its
return (claims, reads, events, notifications, breach actions, commit), for each
tick; the best of the three is reported. Building the data is not timed.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TICKS = 3
PRIORITIES = ["P0"] * 2 + ["P1"] * 8 + ["P2"] * 30 + ["P3"] * 40 + ["P4"] * 20
CHANNELS = ["x", "x", "x", "facebook", "instagram", "email", "reddit"]
META = {"facebook", "instagram"}
# Breach actions by priority, as a desk might set them up.
POLICIES = [
    ("crisis", ["P0"], ["notify_supervisor", "escalate"]),
    ("urgent", ["P1", "P2"], ["raise_priority", "notify_supervisor", "reassign"]),
    ("standard", ["P3", "P4"], ["notify_supervisor"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="open cases (up to 1,000,000)")
    parser.add_argument("--agents", type=int, default=60, help="agents, spread over 4 teams")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", action="store_true",
                        help="flush the DATABASE_URL database first (it must be a scratch one)")
    args = parser.parse_args()
    if not 100 <= args.n <= 1_000_000:
        parser.error("-n must be 100 to 1,000,000")
    scratch = None
    if not os.environ.get("DATABASE_URL"):
        scratch = tempfile.mkdtemp(prefix="socialdesk-bench-")
        os.environ["SOCIALDESK_DATA_DIR"] = scratch
    elif not args.reset:
        sys.exit("refusing to write to DATABASE_URL without --reset")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from socialdesk.cases.sla import do_evaluate_clocks

    if args.reset:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    print(f"database {connection.vendor}; building {args.n:,} open cases…")
    started = time.perf_counter()
    clocks, expected = build(args.n, args.agents, random.Random(args.seed))
    print(f"built {clocks:,} clocks in {time.perf_counter() - started:.0f} s")
    if connection.vendor == "sqlite":
        # Fold the bulk load's write-ahead log into the database, as a desk that has
        # been running a while would have: otherwise the first ticks pay for it.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would soon give

    timings = []
    for tick in range(TICKS):
        now = NOW + timedelta(minutes=tick)
        started = time.perf_counter()
        report = do_evaluate_clocks(now)
        timings.append(time.perf_counter() - started)
        warned = report.warned + report.windows_closing
        assert (warned, report.breached) == expected, (report, expected)
        print(f"  tick {tick + 1}: {timings[-1]:.2f} s ({report.warned:,} warnings, "
              f"{report.windows_closing:,} reply windows closing, {report.breached:,} breaches; "
              f"actions {report.actions})")
    print(f"clock: {args.n:,} open cases ({clocks:,} clocks), {expected[0]:,} warned, "
          f"{expected[1]:,} breached: {min(timings):.2f} s (best of {TICKS}, {connection.vendor})")
    if scratch:
        connection.close()
        shutil.rmtree(scratch, ignore_errors=True)  # a 100,000-case run leaves ~300 MB


def build(n: int, agent_count: int, rng: random.Random) -> tuple[int, tuple[int, int]]:
    """The desk's data, written in bulk; returns the clock count and, per tick, the
    (warnings, breaches) to expect."""
    from socialdesk.accounts.models import Team, User
    from socialdesk.cases.models import Case, SlaClock, SlaPolicy
    from socialdesk.contacts.models import Contact
    from socialdesk.lib.bulk import insert_rows

    head = User.objects.create_user("head", role=User.Role.SUPERVISOR)
    care = Team.objects.create(slug="care", name="Care", supervisor=head)
    teams = [care] + [
        Team.objects.create(slug=slug, name=slug.title(), parent=care,
                            supervisor=User.objects.create_user(f"lead-{slug}",
                                                                role=User.Role.SUPERVISOR))
        for slug in ("tier-1", "tier-2", "social")]
    members: dict[int, list[int]] = {team.pk: [] for team in teams}
    for i in range(agent_count):
        team = teams[i % len(teams)]
        user = User.objects.create_user(f"agent{i}", capacity=10_000)
        user.teams.add(team)
        members[team.pk].append(user.pk)
    User.objects.create_user("ada", role=User.Role.ADMIN)
    for position, (name, priorities, actions) in enumerate(POLICIES):
        SlaPolicy.objects.create(name=name, position=position, priorities=priorities,
                                 first_response_minutes=60, next_response_minutes=120,
                                 resolution_minutes=24 * 60, breach_actions=actions)
    policy_of = {p: name for name, priorities, _ in POLICIES for p in priorities}

    contact_ids = insert_rows(Contact, ["name", "tier", "created_at"],
                              [(f"customer {i}", "", NOW) for i in range(max(1, n // 3))])
    rows, shapes = [], []
    for i in range(n):
        team = teams[1 + i % (len(teams) - 1)]
        assignee = rng.choice(members[team.pk]) if rng.random() < 0.9 else None
        opened = NOW - timedelta(minutes=rng.randint(5, 600))
        priority, channel = rng.choice(PRIORITIES), rng.choice(CHANNELS)
        rows.append(("open", priority, "respond", "complaint", "", channel, "", [],
                     rng.choice(contact_ids), team.pk, assignee, "my kettle broke", "",
                     [], "", "", opened, opened, opened + timedelta(hours=1), NOW, NOW))
        shapes.append((priority, channel, opened))
    case_ids = insert_rows(Case, [
        "status", "priority", "decision", "category", "reply_mode", "channel", "lang",
        "topics", "contact", "team", "assignee", "subject", "routing_rule", "steps",
        "approval_by", "approval_reason", "opened_at", "last_inbound_at",
        "first_response_due", "created_at", "updated_at"], rows)

    per_tick = n // 100
    chosen = rng.sample(range(n), 2 * per_tick * TICKS)
    due_now = {index: ("warn" if k % 2 == 0 else "breach", k // (2 * per_tick))
               for k, index in enumerate(chosen)}
    clocks = []
    for index, (case_id, (priority, channel, opened)) in enumerate(zip(case_ids, shapes,
                                                                       strict=True)):
        policy = policy_of[priority]
        third = ("reply_window", "") if channel in META else ("next_response", policy)
        row = [waiting(rng, case_id, "first_response", policy, 60, opened),
               waiting(rng, case_id, "resolution", policy, 24 * 60, opened),
               waiting(rng, case_id, *third, 24 * 60, opened)]
        if index in due_now:
            what, tick = due_now[index]
            at = NOW + timedelta(minutes=tick, seconds=-rng.randint(0, 59))
            slot = 2 if what == "warn" and channel in META else 0
            case, kind, pol, state, target, started = row[slot][:6]
            if what == "warn":
                row[slot] = (case, kind, pol, state, target, started,
                             at + timedelta(minutes=15), at, None)
            else:  # warned a quarter of an hour ago, due now
                row[slot] = (case, kind, pol, state, target, started,
                             at, at - timedelta(minutes=15), at - timedelta(minutes=15))
        clocks.extend(row)
    insert_rows(SlaClock, ["case", "kind", "policy", "state", "target_seconds", "started_at",
                           "due_at", "warn_at", "warned_at"], clocks,
                returning=False)
    return len(clocks), (per_tick, per_tick)


def waiting(rng: random.Random, case_id: int, kind: str, policy: str, minutes: int,
            started: datetime) -> tuple:
    """A clock due later than the benchmark's ticks; one in twenty has warned already."""
    if rng.random() < 0.05:
        warn_at = NOW - timedelta(minutes=30)
        return (case_id, kind, policy, "active", minutes * 60, started,
                warn_at + timedelta(hours=1), warn_at, warn_at)
    warn_at = NOW + timedelta(days=2, minutes=rng.randint(0, 600))
    return (case_id, kind, policy, "active", minutes * 60, started,
            warn_at + timedelta(hours=1), warn_at, None)


if __name__ == "__main__":
    main()
