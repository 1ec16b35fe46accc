"""Routing and assignment decisions per second: 200 agents, 10,000 open cases.

    python bench/routing.py                       # embedded (SQLite in a temp dir)
    DATABASE_URL=postgres://... python bench/routing.py --reset

A decision is what the desk does for each new case after triage: the routing
rules pick a team (or the account owner), then the team's strategy picks an
agent within capacity. Triage runs before the clock starts (it has its own
figures in docs/EVALUATION.md). Decisions are made in batches of 1,000, as the
pipeline does, each batch with a fresh Assigner, so the queries that read the
teams' members and their open-case loads are inside the timing.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

RULES = {
    "fallback": "care",
    "rules": [
        {"name": "legal", "when": {"cues": ["legal"]}, "team": "legal"},
        {"name": "press", "when": {"cues": ["press", "regulator"]}, "team": "pr"},
        {"name": "crisis", "when": {"category": ["crisis"]}, "team": "pr"},
        {"name": "vip-owner", "when": {"tier": ["vip", "customer"],
                                       "category": ["complaint"]}, "team": "account_owner"},
        {"name": "sales", "when": {"keywords": ["pricing", "quote", "enterprise plan"]},
         "team": "sales"},
        {"name": "billing", "when": {"topics": ["billing"]}, "team": "care-tier-2"},
        {"name": "portuguese", "when": {"lang": ["pt", "es"]}, "team": "care-tier-2"},
        {"name": "big-reach", "when": {"followers_at_least": 50000}, "team": "care-tier-2"},
        {"name": "private", "when": {"visibility": ["private"]}, "team": "care-tier-1"},
    ],
}
TEAMS = [("care", "least_loaded"), ("care-tier-1", "round_robin"),
         ("care-tier-2", "skills"), ("pr", "least_loaded"), ("legal", "least_loaded"),
         ("sales", "round_robin"), ("community", "least_loaded"), ("comms", "least_loaded"),
         ("moderation", "round_robin"), ("escalations", "skills")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="decisions to time")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--open", type=int, default=10_000, help="open cases already assigned")
    parser.add_argument("--reset", action="store_true",
                        help="flush the DATABASE_URL database first (it must be a scratch one)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["SOCIALDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="socialdesk-bench-")
    elif not args.reset:
        sys.exit("refusing to write to DATABASE_URL without --reset")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from synthetic import posts

    from socialdesk.accounts.models import Team, User
    from socialdesk.cases.models import Case
    from socialdesk.contacts.models import Contact
    from socialdesk.lib.bulk import insert_rows
    from socialdesk.routing.assign import Assigner, Needs
    from socialdesk.routing.rules import parse_rules, route
    from socialdesk.triage.engine import PostInput, triage_batch
    from socialdesk.triage.policy import default_policy

    if args.reset:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    rng = random.Random(7)

    teams = {slug: Team.objects.create(slug=slug, name=slug, strategy=strategy)
             for slug, strategy in TEAMS}
    agents = User.objects.bulk_create([
        User(username=f"agent{i:03d}", capacity=rng.choice([60, 80, 100]),
             languages=rng.sample(["en", "pt", "es", "de"], 2),
             skills=rng.sample(["billing", "delivery", "app", "kettles", "coffee"], 2))
        for i in range(args.agents)])
    team_list = list(teams.values())
    for i, agent in enumerate(agents):
        agent.teams.add(team_list[i % len(team_list)])
    contact = Contact.objects.create(name="bench")
    now = timezone.now()
    rows = []
    for i in range(args.open):
        agent = agents[i % len(agents)]
        team = team_list[(i % len(agents)) % len(team_list)]
        rows.append(("open", "P2", "respond", "complaint", "public", "x", "en", [],
                     contact.pk, team.pk, agent.pk, "", "bench", now, now, now, None, "", "",
                     [], now, now))
    insert_rows(Case, ["status", "priority", "decision", "category", "reply_mode", "channel",
                       "lang", "topics", "contact", "team", "assignee", "subject",
                       "routing_rule", "opened_at", "last_inbound_at", "assigned_at",
                       "reassign_at", "approval_by", "approval_reason", "steps", "created_at",
                       "updated_at"], rows,
                returning=False)

    records = posts(args.n)
    inputs = [PostInput(r["channel"], r["external_id"], r["text"], r.get("visibility", "public"),
                        r.get("author_followers"), "",
                        rng.choice(["", "", "customer", "vip"]),
                        rng.choice(["", "", "", "agent007"]))
              for r in records]
    results = triage_batch(inputs, default_policy())
    facts = [result.facts(post) for post, result in zip(inputs, results, strict=True)]
    ruleset = parse_rules(RULES)
    print(f"{args.agents} agents in {len(teams)} teams, {args.open:,} open cases, "
          f"{args.n:,} decisions, database {connection.vendor}")

    def run() -> tuple[float, int]:
        assigned = 0
        started = time.perf_counter()
        for start in range(0, len(facts), 1000):
            assigner = Assigner()
            for fact in facts[start:start + 1000]:
                chosen = route(ruleset, fact)
                team = teams.get(chosen.team) or teams["care"]
                urgent = fact["decision"] == "escalate" or "safety" in fact["cues"]
                pick = assigner.pick(team, Needs(fact["lang"], frozenset(fact["topics"]),
                                                 fact["channel"]), force=urgent)
                assigned += pick.agent is not None
            assigner.save()
        return time.perf_counter() - started, assigned

    best = min(run() for _ in range(3))
    elapsed, assigned = best
    print(f"routing + assignment: {args.n / elapsed:,.0f} decisions/s "
          f"({elapsed * 1000:.0f} ms for {args.n:,}; {assigned:,} assigned, "
          f"the rest queued at capacity; best of 3)")


if __name__ == "__main__":
    main()
