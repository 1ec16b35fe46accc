"""Inbox page: server time of the main views at 1,000,000 posts and 100,000 open cases.

    python bench/inbox.py                                  # PostgreSQL on 127.0.0.1:5432
    python bench/inbox.py --server postgres://user@host:5432 --posts 1000000 --open 100000

Creates its own database (socialdesk_bench_inbox) on the server, builds the data
with set-based SQL (INSERT ... SELECT over generate_series: minutes, not hours),
and drops the database at the end (--keep leaves it for a look, --reuse times a
kept one again without building).

The data: 10 teams of 20 agents, a supervisor over three of them and an admin;
N open cases (new, open, pending; 70% of those needing a response assigned, SLA
due times from four hours overdue to two days ahead, 15% monitor only) and
twice as many resolved or closed; one opening post per case and the rest of the
posts as thread replies (a quarter of them the brand's), each inbound post with
its triage; replies awaiting approval and waiting follow-ups.

Measured: the Django test client's wall time for a full page (middleware,
queries, templates), in-process, as the server spends it; 3 warm-up requests,
then --runs timed ones; the median and the 95th percentile are reported. Data
building is not timed.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE = "socialdesk_bench_inbox"
TEAMS = ["care", "care-tier-1", "care-tier-2", "pr", "legal", "sales", "community", "comms",
         "moderation", "escalations"]
AGENTS_PER_TEAM = 20
OPENERS = [
    "my kettle stopped working after two weeks, really disappointed",
    "still waiting for my refund, the order was cancelled ages ago",
    "how do I descale the coffee machine? the manual is not clear",
    "love the new toaster, best breakfast upgrade this year!",
    "would be great if the app let me pause my subscription",
    "the app is down again, can't log in at all",
    "does the 1.7 litre kettle work with 110V sockets?",
    "charged twice for my beans this month, please fix this",
    "thanks for the quick help yesterday, sorted now",
    "worst customer service ever, nobody answers emails",
    "is there a store near the station open on Sunday?",
    "the handle got so hot it burned my fingers",
]
FOLLOW_UPS = ["any update on this?", "thanks, sent you a DM", "still not fixed",
              "that worked, thank you!", "this is getting ridiculous"]
CATEGORIES = ["complaint", "question", "praise", "suggestion", "complaint", "question",
              "complaint", "other"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES",
                                                           "postgres://postgres@127.0.0.1:5432"),
                        help=f"a PostgreSQL server (the database {DATABASE} is created on it)")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000, help="open cases")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per view")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    parser.add_argument("--reuse", action="store_true",
                        help="time a database kept by an earlier --keep run")
    args = parser.parse_args()
    closed = 2 * args.open
    if not 1_000 <= args.open <= 1_000_000 or args.posts < args.open + closed:
        parser.error("--open must be 1,000 to 1,000,000 and --posts at least 3 × --open")
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    server = urlparse(args.server)
    if server.scheme not in ("postgres", "postgresql"):
        parser.error("--server must be a postgres:// URL")
    admin_url = server._replace(path="/postgres").geturl()
    if not args.reuse:
        _admin(admin_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
               f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = server._replace(path=f"/{DATABASE}").geturl()
    os.environ["DJANGO_SETTINGS_MODULE"] = "socialdesk.settings"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # The test client's host; not setup_test_environment(), whose template
    # instrumentation copies every context and would count against the page.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        call_command("migrate", verbosity=0)  # with --reuse: indexes added since
        if not args.reuse:
            started = time.perf_counter()
            build(args.open, closed, args.posts)
            print(f"built in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM ingestion_post")
            posts = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM cases_case WHERE status IN "
                           "('new', 'open', 'pending')")
            open_cases = cursor.fetchone()[0]
        print(f"PostgreSQL {connection.pg_version // 10000}: {posts:,} posts, "
              f"{open_cases:,} open cases; {args.runs} timed requests per view")
        measure(args.runs)
    finally:
        connection.close()
        if not args.keep:
            _admin(admin_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def _admin(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def insert_select(model, columns: dict[str, str], source: str) -> int:
    """INSERT INTO the model's table (columns) SELECT expressions FROM source; fields
    not named take their model default (or now() for automatic timestamps), so that
    a field added later does not break the benchmark."""
    from django.db import connection

    meta = model._meta
    names, exprs, params = [], [], []
    for field in meta.concrete_fields:
        if field.primary_key and field.attname not in columns:
            continue
        if field.attname in columns:
            names.append(field.column)
            exprs.append(columns[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            names.append(field.column)
            exprs.append("now()")
        else:
            value = field.get_default()
            if value is None and not field.null:
                raise SystemExit(f"bench: {model.__name__}.{field.name} needs a value")
            names.append(field.column)
            exprs.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    sql = f"INSERT INTO {meta.db_table} ({', '.join(names)}) SELECT {', '.join(exprs)} {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def pick(salt: int, n: int, var: str = "s.g") -> str:
    """0 to n - 1 from a hash of the row number: attributes independent of each other,
    as in real data (plain modular arithmetic would tie the team to the priority)."""
    return f"mod(hashint8({var} * 16 + {salt})::bigint + 2147483648, {n})"


def _array(values) -> str:
    return "(ARRAY[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "])"


def build(open_cases: int, closed: int, posts: int) -> None:
    from django.db import connection

    from socialdesk.accounts.models import Team, User
    from socialdesk.cases.models import Case, FollowUp, Reply
    from socialdesk.contacts.models import Contact, Identity
    from socialdesk.ingestion.models import Post
    from socialdesk.triage.models import Topic, Triage

    step = time.perf_counter()

    def done(what: str) -> None:
        nonlocal step
        print(f"  {what} ({time.perf_counter() - step:.0f} s)")
        step = time.perf_counter()

    lead = User.objects.create_user("lead", role=User.Role.SUPERVISOR)
    User.objects.create_user("ada", role=User.Role.ADMIN, is_superuser=True, is_staff=True)
    teams = [Team.objects.create(slug=slug, name=slug.replace("-", " ").title(),
                                 supervisor=lead if i < 3 else None)
             for i, slug in enumerate(TEAMS)]
    agents = []
    for i, team in enumerate(teams):
        for k in range(AGENTS_PER_TEAM):
            user = User.objects.create_user(f"agent{i * AGENTS_PER_TEAM + k}",
                                            capacity=10_000)
            user.teams.add(team)
            agents.append(user.pk)
    Topic.objects.create(slug="billing", name="Billing")
    Topic.objects.create(slug="delivery", name="Delivery")
    team_ids = "(ARRAY[" + ", ".join(str(t.pk) for t in teams) + "])"
    agent_ids = "(ARRAY[" + ", ".join(str(a) for a in agents) + "])"

    people = max(1_000, (open_cases + closed) * 5 // 6)
    insert_select(Contact, {"name": "'customer ' || g"},
                  f"FROM generate_series(1::bigint, {people}::bigint) g")
    insert_select(Identity, {
        "channel": "'x'", "handle": "'user' || c.id", "name": "c.name",
        "followers": "(ARRAY[12, 80, 300, 1500, 25000])[1 + mod(c.id, 5)]",
        "contact_id": "c.id"}, "FROM contacts_contact c")
    brand = Identity.objects.create(channel="x", handle="brand", name="The brand",
                                    contact=Contact.objects.create(name="The brand"))
    done(f"{people:,} contacts and identities")

    total = open_cases + closed
    decision = (f"CASE WHEN {pick(1, 20, 'g')} < 3 THEN 'monitor' "
                f"WHEN {pick(1, 20, 'g')} = 3 THEN 'let_stand' "
                f"WHEN {pick(1, 20, 'g')} = 4 THEN 'escalate' "
                f"WHEN g > {open_cases} AND {pick(1, 20, 'g')} = 5 THEN 'hide' ELSE 'respond' END")
    source = f"""FROM (
        SELECT g, {decision} AS decision, {pick(2, len(teams), 'g')} AS t,
               now() - make_interval(mins => (CASE WHEN g <= {open_cases}
                   THEN {pick(3, 7 * 24 * 60, 'g')} ELSE {pick(3, 30 * 24 * 60, 'g')} END)::int)
                   AS opened,
               (SELECT min(id) FROM contacts_contact) + {pick(4, people, 'g')} AS contact
        FROM generate_series(1::bigint, {total}::bigint) g) s"""
    needs = "s.decision IN ('respond', 'escalate')"
    insert_select(Case, {
        "status": f"CASE WHEN s.g <= {open_cases} THEN (ARRAY['new', 'open', 'open', 'pending'])"
                  f"[1 + {pick(5, 4)}] ELSE (ARRAY['resolved', 'closed'])[1 + {pick(6, 2)}] END",
        "priority": "CASE WHEN s.decision IN ('monitor', 'let_stand') THEN 'P4' ELSE "
                    f"(ARRAY['P0', 'P1', 'P1', 'P2', 'P2', 'P2', 'P3', 'P3'])[1 + {pick(7, 8)}] "
                    "END",
        "decision": "s.decision",
        "category": f"{_array(CATEGORIES)}[1 + {pick(8, len(CATEGORIES))}]",
        "reply_mode": "'public'",
        "channel": "(ARRAY['x', 'x', 'x', 'facebook', 'instagram', 'email', 'reddit'])"
                   f"[1 + {pick(9, 7)}]",
        "lang": f"CASE {pick(10, 10)} WHEN 0 THEN 'pt' WHEN 1 THEN 'es' ELSE 'en' END",
        "topics": f"CASE {pick(11, 5)} WHEN 0 THEN '[\"billing\"]'::jsonb "
                  "WHEN 1 THEN '[\"delivery\"]'::jsonb ELSE '[]'::jsonb END",
        "contact_id": "s.contact",
        "team_id": f"{team_ids}[1 + s.t]",
        "assignee_id": f"CASE WHEN s.g <= {open_cases} AND {needs} AND {pick(12, 10)} < 7 "
                       f"THEN {agent_ids}[1 + s.t * {AGENTS_PER_TEAM} + "
                       f"{pick(13, AGENTS_PER_TEAM)}] END",
        "subject": f"{_array(OPENERS)}[1 + {pick(14, len(OPENERS))}]",
        "opened_at": "s.opened", "last_inbound_at": "s.opened",
        "first_response_due": "s.opened + interval '1 hour'",
        "sla_due_at": f"CASE WHEN s.g <= {open_cases} AND {needs} THEN now() + "
                      f"make_interval(mins => ({pick(15, 3000)} - 240)::int) END",
        "resolved_at": f"CASE WHEN s.g > {open_cases} THEN s.opened + interval '2 hours' END",
        "created_at": "s.opened", "updated_at": "s.opened + interval '1 minute'",
    }, source + " ORDER BY s.g")
    done(f"{total:,} cases")

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM cases_case")
        first_case, last_case = cursor.fetchone()
        cursor.execute("SELECT min(id) FROM contacts_contact")
        first_contact = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM contacts_identity")
        first_identity = cursor.fetchone()[0]
    identity = f"{first_identity} + (c.contact_id - {first_contact})"
    insert_select(Post, {
        "channel": "c.channel", "external_id": "'o' || c.id", "direction": "'inbound'",
        "visibility": "CASE c.channel WHEN 'email' THEN 'private' ELSE 'public' END",
        "author_id": identity,
        "text": "c.subject || CASE WHEN mod(c.id, 3) = 0 THEN ' (order BK-' || "
                "(10000 + mod(c.id * 7919, 90000)) || ')' ELSE '' END",
        "created_at": "c.opened_at", "lang": "c.lang", "followers": "NULL",
        "processed_at": "c.opened_at", "case_id": "c.id",
    }, "FROM cases_case c ORDER BY c.id")
    replies = posts - total
    insert_select(Post, {
        "channel": "c.channel", "external_id": "'r' || r.g", "direction":
            "CASE WHEN mod(r.g, 4) = 0 THEN 'outbound' ELSE 'inbound' END",
        "visibility": "CASE c.channel WHEN 'email' THEN 'private' ELSE 'public' END",
        "author_id": f"CASE WHEN mod(r.g, 4) = 0 THEN {brand.pk} ELSE {identity} END",
        "text": f"CASE WHEN mod(r.g, 4) = 0 THEN 'Sorry about this, we have sent you a DM.' "
                f"ELSE {_array(FOLLOW_UPS)}[1 + mod(r.g, {len(FOLLOW_UPS)})] END",
        "created_at": "c.opened_at + make_interval(mins => (5 + mod(r.g, 600))::int)",
        "processed_at": "c.opened_at", "case_id": "c.id",
    }, f"FROM (SELECT g, {first_case} + mod(g * 104729, {last_case - first_case + 1}) AS case_id "
       f"FROM generate_series(1::bigint, {replies}::bigint) g) r "
       "JOIN cases_case c ON c.id = r.case_id")
    done(f"{posts:,} posts")

    insert_select(Triage, {
        "post_id": "p.id", "lang": "p.lang",
        "sentiment": "(ARRAY['negative', 'negative', 'neutral', 'positive'])"
                     f"[1 + {pick(1, 4, 'p.id')}]",
        "sentiment_score": "0", "category": "c.category", "decision": "c.decision",
        "severity": "2", "priority": "c.priority", "reply_mode": "'public'",
        "owner_team": "'care'", "policy_version": "1", "model_version": "'bench'",
    }, "FROM ingestion_post p JOIN cases_case c ON c.id = p.case_id "
       "WHERE p.direction = 'inbound'")
    done("triage of every inbound post")

    insert_select(Reply, {
        "case_id": "c.id", "author_id": f"{agent_ids}[1]", "in_reply_to_id": "p.id",
        "text": "'Sorry to hear that, we are on it.'", "visibility": "p.visibility",
        "status": "'awaiting_approval'",
        "approval_by": f"CASE WHEN {pick(2, 2, 'c.id')} = 0 THEN 'care' ELSE 'supervisor' END",
    }, "FROM cases_case c JOIN ingestion_post p ON p.case_id = c.id AND p.external_id = "
       "'o' || c.id WHERE c.status IN ('new', 'open') AND mod(c.id, 200) = 7")
    insert_select(FollowUp, {
        "case_id": "c.id", "kind": "'expect_customer'", "action": "'DM us your order number'",
        "due_at": "now() + interval '1 day'", "status": "'waiting'",
        "on_expiry": "'remind'",
    }, "FROM cases_case c WHERE c.status = 'pending' AND mod(c.id, 10) = 0")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    done("approvals, follow-ups, VACUUM ANALYZE")


SCENARIOS = [
    ("Needs response (default)", {}),
    ("Mine", {"view": "mine"}),
    ("Unassigned", {"view": "unassigned"}),
    ("Breaching soon", {"view": "breaching"}),
    ("All, sorted by SLA", {"view": "all"}),
    ("Awaiting approval", {"view": "approval"}),
    ("Filtered: facebook, P2, negative", {"view": "all", "channel": "facebook",
                                          "priority": "P2", "sentiment": "negative"}),
    ("Search: an order number", {"view": "all", "q": "BK-44236"}),
    ("Search: a common word", {"view": "all", "q": "refund"}),
]


def measure(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from socialdesk.accounts.models import User

    people = [("agent", "agent0", SCENARIOS),
              ("supervisor", "lead", SCENARIOS + [("One team", {"view": "all",
                                                                "team": "care-tier-1"})]),
              ("admin", "ada", [s for s in SCENARIOS if s[0] in (
                  "All, sorted by SLA", "Breaching soon", "Search: an order number")])]
    rows = []
    for role, username, scenarios in people:
        client = Client()
        client.force_login(User.objects.get(username=username))
        since = timezone.now().isoformat()
        poll = ("Live poll (no changes)", {"since": since, "shown": "1,2,3"}, "web:inbox_changes")
        for name, params, *url in [(n, p, "web:inbox") for n, p in scenarios] + [poll]:
            path = reverse(url[0])
            for _ in range(3):
                response = client.get(path, params)
                assert response.status_code == 200, (name, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                client.get(path, params)
            count = len(queries)  # now: the next request empties the log
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(path, params)
                timings.append((time.perf_counter() - started) * 1000)
            median = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20, method="inclusive")[18]
            rows.append((role, name, median, p95, count))
            print(f"  {role:<10} {name:<34} median {median:6.0f} ms   p95 {p95:6.0f} ms   "
                  f"{count} queries", flush=True)
    print("\n| user | view | median | p95 | queries |\n|---|---|---:|---:|---:|")
    for role, name, median, p95, count in rows:
        print(f"| {role} | {name} | {median:.0f} ms | {p95:.0f} ms | {count} |")


if __name__ == "__main__":
    main()
