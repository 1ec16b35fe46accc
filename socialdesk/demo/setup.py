"""The demo desk: teams, two accounts, the brand's channel accounts, its topics and the sample."""

import secrets
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from socialdesk.accounts.actions import do_ensure_teams
from socialdesk.accounts.models import User
from socialdesk.accounts.orgchart import do_import_org, parse_org
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.importer import ImportReport, import_records
from socialdesk.ingestion.records import read_jsonl
from socialdesk.triage.actions import do_import_topics
from socialdesk.triage.topics import parse_topics

SAMPLE = Path(__file__).with_name("data") / "sample.jsonl"
TOPICS = Path(__file__).with_name("data") / "topics.yaml"
ORG = Path(__file__).with_name("data") / "org.yaml"
TEAMS = ["care", "pr", "legal", "community", "comms", "moderation"]
BRAND_ACCOUNTS = [("x", "brightkettle"), ("instagram", "brightkettle"),
                  ("facebook", "Brightkettle"), ("reddit", "u/brightkettle_team"),
                  ("email", "care@brightkettle.example")]


def do_set_up_accounts() -> dict[str, str]:
    """Create (or reset) the demo admin and agent; returns username → new password."""
    teams = do_ensure_teams(set(TEAMS))
    passwords = {}
    for username, role in (("admin", User.Role.ADMIN), ("agent", User.Role.AGENT)):
        user, _ = User.objects.get_or_create(username=username)
        user.role = role
        user.is_staff = user.is_superuser = role == User.Role.ADMIN
        user.first_name = "Demo"
        user.last_name = role.label
        passwords[username] = secrets.token_urlsafe(12)
        user.set_password(passwords[username])
        user.save()
        if role == User.Role.AGENT:
            user.teams.set([teams["care"], teams["community"]])
    for channel, handle in BRAND_ACCOUNTS:
        ChannelAccount.objects.get_or_create(channel=channel, handle=handle,
                                             defaults={"name": "Brightkettle"})
    do_set_up_drop_folder()
    # Brightkettle's org chart: calendars, teams with supervisors, agents,
    # routing rules, SLA policies and the customers whose accounts agents own.
    do_import_org(parse_org(ORG.read_text(encoding="utf-8")))
    return passwords


def drop_folder() -> Path:
    return settings.DATA_DIR / "drop"


def do_set_up_drop_folder() -> ChannelAccount:
    """The demo's listener: Brightkettle's X account hears the files dropped in a
    folder (the folder connector, for teams without API access), so posts arrive
    by themselves while the desk runs. Its replies, like every demo account's,
    go to the outbox file."""
    folder = drop_folder()
    folder.mkdir(parents=True, exist_ok=True)
    account = ChannelAccount.objects.get(channel="x", handle="brightkettle")
    account.listener, account.delivery = "folder", "file"
    account.config = {"directory": str(folder)}
    account.poll_seconds, account.is_active = 15, True
    account.next_poll_at = timezone.now()
    account.save()
    return account


def do_load_topics() -> dict[str, list[str]]:
    """Brightkettle's topics (billing, delivery, the app, each product line…). Each
    start puts the file's version back over changes to these topics; others are kept."""
    return do_import_topics(parse_topics(TOPICS.read_text(encoding="utf-8")))


def do_import_sample(now: datetime | None = None) -> ImportReport:
    """The bundled posts, after the topics: the sample is triaged with them.

    With `now`, the week of posts is moved in time so that its last post arrives
    ten minutes before `now`: the desk shows live SLA clocks, not a week-old
    backlog. Without it the posts keep their dates (tests rely on them)."""
    do_load_topics()
    with SAMPLE.open("rb") as stream:
        parsed = list(read_jsonl(stream, 40_000))
    if now is not None:
        dates = [r.created_at for _, r in parsed if not isinstance(r, Exception)]
        shift = now - timedelta(minutes=10) - max(dates) if dates else timedelta(0)
        for _, record in parsed:
            if not isinstance(record, Exception):
                record.created_at += shift
    return import_records(iter(parsed), source="demo")
