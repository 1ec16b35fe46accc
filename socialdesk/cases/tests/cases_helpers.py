"""Cases made directly, with the triage the pipeline would have stored: the reply,
approval and follow-up tests need a case in a known state, not a classifier's view."""

from datetime import UTC, datetime

from socialdesk.cases.models import Case
from socialdesk.contacts.models import Contact, Identity
from socialdesk.ingestion.models import Post
from socialdesk.triage.models import Triage

OPENED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def make_case(team, text="my kettle stopped working after a week, really disappointed",
              channel="x", category="complaint", reply_mode="public", cues=(), assignee=None,
              approval_by="", approval_reason="", handle="carol", tier="",
              visibility="public", status=Case.Status.OPEN) -> Case:
    contact = Contact.objects.create(name=handle.title(), tier=tier)
    identity = Identity.objects.create(channel=channel, handle=handle, contact=contact)
    case = Case.objects.create(
        status=status, priority="P2", decision="respond", category=category,
        reply_mode=reply_mode, channel=channel, contact=contact, team=team, assignee=assignee,
        subject=text[:200], opened_at=OPENED, last_inbound_at=OPENED,
        approval_by=approval_by, approval_reason=approval_reason)
    add_post(case, f"{case.pk}-1", text, identity=identity, visibility=visibility, cues=cues)
    return case


def add_post(case, external_id, text, identity=None, visibility="public", cues=(),
             at=OPENED) -> Post:
    identity = identity or case.contact.identities.get()
    post = Post.objects.create(
        channel=case.channel, external_id=external_id, direction=Post.Direction.INBOUND,
        visibility=visibility, author=identity, text=text, created_at=at, case=case,
        processed_at=at)
    Triage.objects.create(
        post=post, sentiment="negative", sentiment_score=-0.5, category=case.category,
        decision=case.decision, severity=1, priority=case.priority, reply_mode=case.reply_mode,
        owner_team=case.team.slug if case.team else "care",
        cues=[{"cue": cue, "evidence": [cue]} for cue in cues], reasons=["made by a test"],
        policy_version=1, model_version="test")
    return post
