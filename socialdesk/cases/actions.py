"""What agents do to a case. Each `do_*` makes one change and writes its audit event."""

from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.cases.models import Case, Reply
from socialdesk.ingestion.models import Post

# Characters a public reply may have on each channel; others have no short limit.
CHANNEL_LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "instagram": 2200,
                  "youtube": 10_000, "reddit": 10_000, "facebook": 8000}
DEFAULT_LIMIT = 20_000


class ActionError(ValueError):
    """A request the desk refuses, with a message for the person who made it."""


def channel_limit(channel: str) -> int:
    return CHANNEL_LIMITS.get(channel, DEFAULT_LIMIT)


@transaction.atomic
def do_assign(case: Case, assignee: User | None, actor: User) -> None:
    if assignee is not None and not assignee.is_active:
        raise ActionError(f"{assignee.username} is not an active user")
    before = case.assignee.username if case.assignee else None
    case.assignee = assignee
    if case.status == Case.Status.NEW and assignee is not None:
        case.status = Case.Status.OPEN
    case.save(update_fields=["assignee", "status", "updated_at"])
    do_record("case.assigned", case=case, actor=actor,
              assignee=assignee.username if assignee else None, before=before)


@transaction.atomic
def do_set_status(case: Case, status: str, actor: User) -> None:
    if status not in Case.Status.values:
        raise ActionError(f"unknown status {status!r}")
    if status == case.status:
        return
    before = case.status
    case.status = status
    case.resolved_at = timezone.now() if status in (Case.Status.RESOLVED,
                                                    Case.Status.CLOSED) else None
    case.save(update_fields=["status", "resolved_at", "updated_at"])
    do_record("case.status_changed", case=case, actor=actor, before=before, after=status)


def check_reply(case: Case, text: str, visibility: str) -> str:
    text = text.strip()
    if not text:
        raise ActionError("The reply is empty.")
    if visibility not in (Post.Visibility.PUBLIC, Post.Visibility.PRIVATE):
        raise ActionError("A reply is public or private.")
    limit = channel_limit(case.channel) if visibility == "public" else DEFAULT_LIMIT
    if len(text) > limit:
        raise ActionError(f"The reply has {len(text):,} characters; {case.channel} allows "
                          f"{limit:,} in a public reply.")
    return text


def last_inbound_post(case: Case) -> Post:
    post = case.posts.filter(direction=Post.Direction.INBOUND).order_by("-created_at").first()
    if post is None:
        raise ActionError("This case has no customer post to reply to.")
    return post


@transaction.atomic
def do_queue_reply(case: Case, author: User, text: str, visibility: str) -> Reply:
    """Store the reply in the outbox; it is delivered after commit, with retries."""
    from socialdesk.cases.tasks import deliver_reply

    text = check_reply(case, text, visibility)
    reply = Reply.objects.create(case=case, author=author, text=text, visibility=visibility,
                                 in_reply_to=last_inbound_post(case))
    if case.status == Case.Status.NEW:
        case.status = Case.Status.OPEN
        case.save(update_fields=["status", "updated_at"])
    do_record("reply.queued", case=case, actor=author, reply=reply.pk, visibility=visibility,
              chars=len(text))
    transaction.on_commit(lambda: deliver_reply.delay(reply.pk))
    return reply
