"""Hiding a person's comment (spam, abuse, someone's personal details), showing it
again, and deleting the brand's own reply: outbox items, delivered by the
account's connector like replies, with retries and a visible failure.

Each is allowed only where the channel's facts say the platform can
(connectors.channels: can_hide, can_delete_own). Hiding needs a reason, kept on
the audit trail: hiding criticism is not what it is for. All three are
idempotent on the platforms (hiding a hidden comment changes nothing, a deleted
post is gone), so an item left "sending" by a worker that died is simply sent
again.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.cases.actions import ActionError
from socialdesk.cases.models import Case, Moderation
from socialdesk.cases.outbox import SENDING_TIMEOUT, requeue, requeue_after
from socialdesk.cases.tasks import moderate
from socialdesk.connectors import channels
from socialdesk.ingestion.models import Post
from socialdesk.lib import queue

MAX_REASON = 500
PENDING = (Moderation.Status.QUEUED, Moderation.Status.SENDING)


def refusal(post: Post, action: str) -> str:
    """Why the action cannot be done to this post, or "" when it can."""
    facts = channels.channel(post.channel)
    if action in (Moderation.Action.HIDE, Moderation.Action.UNHIDE):
        if post.direction != Post.Direction.INBOUND or post.visibility != Post.Visibility.PUBLIC:
            return "Only a person's public comment can be hidden or shown again."
        if not facts.can_hide:
            return f"{facts.label} does not let the brand hide comments."
    elif action == Moderation.Action.DELETE:
        if post.direction != Post.Direction.OUTBOUND:
            return "Only the brand's own posts can be deleted; hide a person's comment instead."
        if not facts.can_delete_own:
            return f"{facts.label} does not let a sent message be taken back."
    else:
        return "Choose hide, unhide or delete."
    return ""


def latest_by_post(case: Case) -> dict[int, Moderation]:
    """The last thing asked of the platform for each of the case's posts."""
    items = (Moderation.objects.filter(case=case).select_related("requested_by")
             .order_by("created_at", "id"))
    return {item.post_id: item for item in items}


def last_for(post: Post) -> Moderation | None:
    """The last thing asked of the platform for this post."""
    return Moderation.objects.filter(post=post).order_by("-created_at", "-id").first()


def offered(post: Post, last: Moderation | None) -> list[str]:
    """What an agent may ask for this post now (nothing while one is pending)."""
    if last is not None and last.status in PENDING:
        return []
    state = last.action if last is not None and last.status == Moderation.Status.DONE else ""
    if state == Moderation.Action.DELETE:
        return []
    wanted = [Moderation.Action.UNHIDE if state == Moderation.Action.HIDE
              else Moderation.Action.HIDE, Moderation.Action.DELETE]
    return [action for action in wanted if not refusal(post, action)]


def do_request_moderation(case: Case, post: Post, action: str, actor: User,
                          reason: str = "") -> Moderation:
    reason = " ".join(reason.split())
    if post.case_id != case.pk:
        raise ActionError("That post is not on this case.")
    refused = refusal(post, action)
    if refused:
        raise ActionError(refused)
    if action == Moderation.Action.HIDE and not reason:
        raise ActionError("Say why the comment is hidden (spam, abuse, personal details): "
                          "hiding criticism makes it louder.")
    if len(reason) > MAX_REASON:
        raise ActionError(f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    last = last_for(post)
    if action not in offered(post, last):
        if last is not None and last.status in PENDING:
            raise ActionError("Something is being done to this post already: wait for it.")
        if last is not None and last.action == Moderation.Action.DELETE:
            raise ActionError("This post is deleted already.")
        raise ActionError("This comment is hidden already." if action == Moderation.Action.HIDE
                          else "This comment is not hidden.")
    try:
        with transaction.atomic():
            moderation = Moderation.objects.create(case=case, post=post, action=action,
                                                   reason=reason, requested_by=actor)
    except IntegrityError:
        raise ActionError("Something is being done to this post already: wait for it.") \
            from None
    do_record(f"post.{action}_requested", case=case, actor=actor, post=post.pk,
              moderation=moderation.pk, reason=reason)
    transaction.on_commit(lambda: queue.enqueue(moderate, moderation.pk))
    return moderation


def do_retry_moderation(item: Moderation, actor: User) -> None:
    if item.status != Moderation.Status.FAILED:
        raise ActionError(f"This is {item.get_status_display().lower()}: only one that was "
                          "not done is tried again.")
    try:
        with transaction.atomic():
            claimed = Moderation.objects.filter(pk=item.pk, status=item.status).update(
                status=Moderation.Status.QUEUED, status_at=timezone.now(), last_error="")
    except IntegrityError:
        raise ActionError("Something else is being done to this post now.") from None
    if not claimed:
        raise ActionError("Someone acted on this just now: reload the case.")
    do_record("post.moderation_retried", case=item.case, actor=actor, moderation=item.pk)
    transaction.on_commit(lambda: queue.enqueue(moderate, item.pk))


def do_sweep_moderations(now: datetime | None = None) -> int:
    """Queue again the items whose message was lost, and those a dead worker left
    sending (safe: every action is idempotent on the platform). How many."""
    now = now or timezone.now()
    stale = (Moderation.objects.filter(status=Moderation.Status.QUEUED,
                                       status_at__lt=now - requeue_after())
             | Moderation.objects.filter(status=Moderation.Status.SENDING,
                                         status_at__lt=now - SENDING_TIMEOUT))
    return requeue(stale, moderate, now)

