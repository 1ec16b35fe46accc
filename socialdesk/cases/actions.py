"""What agents do to a case. Each `do_*` makes one change and writes its audit event."""

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.cases import sla, windows
from socialdesk.cases.guidelines import Draft, Finding, check_draft
from socialdesk.cases.models import Case, CasePresence, FollowUp, Reply
from socialdesk.cases.queries import (
    approvers_to_notify,
    can_approve,
    is_admin,
    teams_led_by,
)
from socialdesk.connectors import channels
from socialdesk.ingestion.models import Post
from socialdesk.lib import queue
from socialdesk.notifications.actions import do_notify
from socialdesk.routing.actions import do_release_queues, mark_acted, reassign_deadline
from socialdesk.triage.models import Triage

if TYPE_CHECKING:
    from socialdesk.cases.followups import FollowUpSpec

# "@ana" and "@ana.lee", but not an e-mail address's "@example.com".
# What agents set by hand; P4 is triage's "monitor only" and stays triage's to give.
PRIORITIES = ("P0", "P1", "P2", "P3")
MAX_TAGS = 20
TAG_MAX_CHARS = 40
_TAG = re.compile(r"[\w-]+")  # letters (any script), digits, _ and -


class ActionError(ValueError):
    """A request the desk refuses, with a message for the person who made it."""

    def __init__(self, message: str, findings: Iterable[Finding] = ()):
        super().__init__(message)
        self.findings = list(findings)


class NeedsConfirmation(ActionError):
    """The reply breaks guidelines that only warn: it goes once the author confirms each."""


class ReplyCollision(ActionError):
    """Someone else's reply already holds the post."""


class NotPermitted(ActionError):
    """The person may see the case but not do this to it (approve a reply, say)."""


def acted_fields(case: Case, fields: list[str]) -> list[str]:
    mark_acted(case)
    return [*fields, "reassign_at"]


@transaction.atomic
def do_assign(case: Case, assignee: User | None, actor: User) -> None:
    if assignee is not None and not assignee.is_active:
        raise ActionError(f"{assignee.username} is not an active user")
    before = case.assignee.username if case.assignee else None
    now = timezone.now()
    case.assignee = assignee
    case.assigned_at = now if assignee else None
    if case.status == Case.Status.NEW and assignee is not None:
        case.status = Case.Status.OPEN
    fields = ["assignee", "assigned_at", "status", "updated_at"]
    if assignee is None or assignee == actor:
        fields = acted_fields(case, fields)
    else:
        # Handed to someone else: their own inactivity timer starts now.
        case.reassign_at = reassign_deadline(case.team, now) if case.team else None
        fields.append("reassign_at")
    case.save(update_fields=fields)
    do_record("case.assigned", case=case, actor=actor,
              assignee=assignee.username if assignee else None, before=before)
    if assignee is None and case.team_id:
        team_ids = {case.team_id}
        transaction.on_commit(lambda: do_release_queues(team_ids))


def may_assign_others(user: User, case: Case) -> bool:
    """Admins, and supervisors of the case's team or of a team above it."""
    if not user.is_active:
        return False
    return is_admin(user) or (case.team_id is not None
                               and case.team_id in teams_led_by(user))


def check_assign(case: Case, assignee: User | None, actor: User) -> None:
    """Anyone who may open the case takes it; only its team's supervisors and admins
    hand it to someone else (an active member of the team) or back to the queue."""
    if assignee == case.assignee:
        return
    if assignee is not None and assignee == actor:
        do_assign(case, actor, actor)
        return
    if not may_assign_others(actor, case):
        raise NotPermitted("Only a supervisor of the case's team or an admin can assign it to "
                           "someone else; you can assign it to yourself.")
    if assignee is not None and not (
            case.team_id and assignee.is_active
            and assignee.teams.filter(pk=case.team_id).exists()):
        team = case.team.name if case.team else "no team"
        raise ActionError(f"{assignee.username} is not an active member of {team}.")
    do_assign(case, assignee, actor)


@transaction.atomic
def do_set_priority(case: Case, priority: str, actor: User) -> None:
    if priority == case.priority:
        return  # a P4 from triage, shown and sent back unchanged, included
    if priority not in PRIORITIES:
        raise ActionError(f"A priority is one of {', '.join(PRIORITIES)}, not {priority!r}.")
    before, case.priority = case.priority, priority
    case.save(update_fields=acted_fields(case, ["priority", "updated_at"]))
    do_record("case.priority_changed", case=case, actor=actor, before=before, after=priority)


def clean_tags(tags: Iterable[str], kept: Iterable[str] = ()) -> list[str]:
    """Tags lower-cased, checked and without repeats; those in `kept` (already on the
    case) pass as they are, so that none stored before these rules is lost."""
    kept, cleaned = set(kept), []
    for raw in tags:
        tag = raw if raw in kept else str(raw).strip().lower()
        if tag not in kept and not (len(tag) <= TAG_MAX_CHARS and _TAG.fullmatch(tag)):
            raise ActionError(f"{str(raw)[:60]!r} is not a tag: use 1 to {TAG_MAX_CHARS} "
                              "letters, digits, - or _.")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ActionError(f"A case has at most {MAX_TAGS} tags.")
    return cleaned


@transaction.atomic
def do_set_tags(case: Case, tags: Iterable[str], actor: User) -> list[str]:
    """The case's tags become `tags`; returns them as stored."""
    before = list(case.tags or [])
    tags = clean_tags(tags, kept=before)
    if tags == before:
        return tags
    case.tags = tags
    case.save(update_fields=acted_fields(case, ["tags", "updated_at"]))
    do_record("case.tags_changed", case=case, actor=actor,
              added=[t for t in tags if t not in before],
              removed=[t for t in before if t not in tags])
    return tags


@transaction.atomic
def do_change_tags(case: Case, actor: User, add: Iterable[str] = (),
                   remove: Iterable[str] = ()) -> list[str]:
    """Add and remove tags against the tags as stored now (the row locked), so that two
    people tagging at once do not drop each other's."""
    stored = Case.objects.select_for_update().only("tags").get(pk=case.pk).tags or []
    case.tags = list(stored)
    remove = {str(t).strip().lower() for t in remove} | set(remove)
    return do_set_tags(case, [t for t in stored if t not in remove] + list(add), actor)


@transaction.atomic
def do_set_status(case: Case, status: str, actor: User | None, at: datetime | None = None) -> None:
    """`actor` None: the desk itself (a follow-up that expired re-opens the case)."""
    if status not in Case.Status.values:
        raise ActionError(f"unknown status {status!r}")
    if status == case.status:
        return
    at = at or timezone.now()
    before = case.status
    done = (Case.Status.RESOLVED, Case.Status.CLOSED)
    case.status = status
    if status not in done:
        case.resolved_at = None
    elif before not in done or case.resolved_at is None:
        case.resolved_at = at
    fields = ["status", "resolved_at", "updated_at"]
    if actor is not None:
        fields = acted_fields(case, fields)
    case.save(update_fields=fields)
    cancelled = 0
    if status in done:
        # Nothing is expected of the customer on a case that is over.
        cancelled = FollowUp.objects.filter(
            case=case, kind=FollowUp.Kind.EXPECT_CUSTOMER, status=FollowUp.Status.WAITING,
        ).update(status=FollowUp.Status.CANCELLED, closed_at=at)
    extra = {"cancelled_follow_ups": cancelled} if cancelled else {}
    do_record("case.status_changed", case=case, actor=actor, at=at, before=before, after=status,
              **extra)
    sla.do_note_status(case, before, status, at)
    if status in done and before not in done and case.team_id:
        team_ids = {case.team_id}
        transaction.on_commit(lambda: do_release_queues(team_ids))


# --------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------

def case_cues(case: Case) -> frozenset[str]:
    """Every risk cue triage found in the case's customer posts."""
    rows = Triage.objects.filter(post__case=case).values_list("cues", flat=True)
    return frozenset(cue["cue"] for cues in rows for cue in cues)


def reply_findings(case: Case, text: str, visibility: str) -> list[Finding]:
    if visibility not in (Post.Visibility.PUBLIC, Post.Visibility.PRIVATE):
        raise ActionError("A reply is public or private.")
    limit = channels.channel(case.channel).reply_limit(visibility)
    findings = check_draft(Draft(
        text=text, visibility=visibility, channel=case.channel, category=case.category,
        cues=case_cues(case),
        allowed_domains=frozenset(getattr(settings, "BRAND_LINK_DOMAINS", ()) or ()),
        own_contacts=frozenset(getattr(settings, "BRAND_CONTACTS", ()) or ()),
        limit=limit,
    ))
    if visibility == Post.Visibility.PRIVATE:
        window = windows.private_window(case, timezone.now())
        if not window.open:
            findings.append(Finding("reply_window", True, window.reason))
    return findings


def _refuse(findings: list[Finding], confirmed: Iterable[str], label: str = "") -> list[str]:
    """Raise for blocking findings and unconfirmed warnings; the warnings confirmed."""
    prefix = f"{label}: " if label else ""
    confirmed = set(confirmed)
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise ActionError(" ".join(prefix + f.message for f in blocking), blocking)
    unconfirmed = [f for f in findings if f.check not in confirmed]
    if unconfirmed:
        raise NeedsConfirmation(
            " ".join(prefix + f.message for f in unconfirmed)
            + " Confirm to send it anyway.", unconfirmed)
    return [f.check for f in findings]


def check_reply(case: Case, text: str, visibility: str,
                confirm_warnings: Iterable[str] = ()) -> str:
    """The reply's text as it will go out, or ActionError (NeedsConfirmation for
    guideline warnings not in `confirm_warnings`)."""
    _refuse(reply_findings(case, text, visibility), confirm_warnings)
    return text.strip()


def last_inbound_post(case: Case, visibility: str | None = None) -> Post:
    """The post a reply answers: the customer's latest in the same visibility, if any."""
    inbound = case.posts.filter(direction=Post.Direction.INBOUND).order_by("-created_at", "-id")
    post = (inbound.filter(visibility=visibility).first() if visibility else None) \
        or inbound.first()
    if post is None:
        raise ActionError("This case has no customer post to reply to.")
    return post


def follow_up_data(spec: "FollowUpSpec") -> dict:
    """A follow-up as a reply keeps it until delivery (Reply.follow_up)."""
    hours = spec.within.total_seconds() / 3600
    return {"action": spec.action.strip(), "hours": int(hours) if hours.is_integer() else hours,
            "on_expiry": spec.on_expiry}


def _insert_reply(case: Case, author: User, text: str, visibility: str, status: str,
                  confirmed: list[str], follow_up: "FollowUpSpec | None" = None) -> Reply:
    post = last_inbound_post(case, visibility)
    try:
        # A savepoint: the caller's transaction must survive the refused insert.
        with transaction.atomic():
            return Reply.objects.create(
                case=case, author=author, text=text, visibility=visibility, status=status,
                in_reply_to=post, confirmed_warnings=confirmed,
                follow_up=follow_up_data(follow_up) if follow_up is not None else None,
                approval_by=case.approval_by if status == Reply.Status.AWAITING_APPROVAL else "")
    except IntegrityError:
        holder = (Reply.objects.filter(in_reply_to=post, visibility=visibility,
                                       status__in=Reply.LIVE_STATUSES)
                  .select_related("author").first())
        who = holder.author.username if holder else "someone else"
        raise ReplyCollision(
            f"Another reply to this post is already waiting or sent by {who}.") from None


@transaction.atomic
def do_submit_reply(case: Case, author: User, text: str, visibility: str,
                    confirm_warnings: Iterable[str] = (),
                    follow_up: "FollowUpSpec | None" = None) -> Reply:
    """Check the reply against the guidelines, then hold it for approval where the
    case needs one (and the author may not give it), else queue it for delivery."""
    from socialdesk.cases.tasks import deliver_reply

    confirmed = _refuse(reply_findings(case, text, visibility), confirm_warnings)
    text = text.strip()
    if follow_up is not None:
        follow_up.check()
    held = bool(case.approval_by) and not can_approve(author, case)
    status = Reply.Status.AWAITING_APPROVAL if held else Reply.Status.QUEUED
    reply = _insert_reply(case, author, text, visibility, status, confirmed, follow_up)
    if case.status == Case.Status.NEW:
        case.status = Case.Status.OPEN
    case.save(update_fields=acted_fields(case, ["status", "updated_at"]))
    # Stored: colleagues should no longer read "alice is writing a reply".
    CasePresence.objects.filter(case=case, user=author).update(drafting=False)
    details = {"reply": reply.pk, "visibility": visibility, "chars": len(text)}
    if confirmed:
        details["confirmed_warnings"] = confirmed
    if follow_up is not None:
        # Kept on the reply (Reply.follow_up) until it is sent; recorded here as what
        # the author asked for, which is also where delivery reads it back today
        # (followups.spec_for_reply).
        details["follow_up"] = follow_up.as_data()
    if held:
        do_record("reply.awaiting_approval", case=case, actor=author,
                  approval_by=case.approval_by, reason=case.approval_reason, **details)
        do_notify("reply.awaiting_approval",
                  f"{case.ref}: a reply by {author.username} waits for your approval "
                  f"({case.approval_reason or case.approval_by}).",
                  approvers_to_notify(case), case=case, data={"reply": reply.pk})
        return reply
    if case.approval_by:
        details["approved_by_author"] = True
    do_record("reply.queued", case=case, actor=author, **details)
    transaction.on_commit(lambda: queue.enqueue(deliver_reply, reply.pk))
    return reply


def do_queue_reply(case: Case, author: User, text: str, visibility: str) -> Reply:
    """The reply path from before approvals and guideline checks; the same checks apply."""
    return do_submit_reply(case, author, text, visibility)


UNDELIVERED = (Reply.Status.FAILED, Reply.Status.UNCERTAIN)


@transaction.atomic
def do_retry_reply(reply: Reply, actor: User) -> None:
    """Send again a reply that was not delivered, or whose delivery is uncertain
    (the person has checked the channel and it is not there)."""
    from socialdesk.cases.tasks import deliver_reply

    if reply.status not in UNDELIVERED:
        raise ActionError(f"This reply is {reply.get_status_display().lower()}: only a reply "
                          "that was not delivered, or whose delivery is uncertain, is sent "
                          "again.")
    if reply.visibility == Post.Visibility.PRIVATE:
        window = windows.private_window(reply.case, timezone.now())
        if not window.open:
            raise ActionError(window.reason)
    before = reply.status
    try:
        with transaction.atomic():  # the unique live reply per post: a savepoint
            claimed = Reply.objects.filter(pk=reply.pk, status=before).update(
                status=Reply.Status.QUEUED, status_at=timezone.now(), last_error="")
    except IntegrityError:
        raise ReplyCollision("Another reply to this post has been written since: this one "
                             "is not sent again.") from None
    if not claimed:
        raise ActionError("Someone acted on this reply just now: reload the case.")
    reply.status = Reply.Status.QUEUED
    do_record("reply.retried", case=reply.case, actor=actor, reply=reply.pk, was=before)
    transaction.on_commit(lambda: queue.enqueue(deliver_reply, reply.pk))


@transaction.atomic
def do_confirm_delivered(reply: Reply, actor: User) -> None:
    """A reply whose delivery was uncertain is on the channel after all (the person
    found it there): recorded as sent, as a delivery would have recorded it."""
    from socialdesk.cases.tasks import record_sent

    locked = Reply.objects.select_for_update().filter(
        pk=reply.pk, status=Reply.Status.UNCERTAIN).first()
    if locked is None:
        raise ActionError("Only a reply whose delivery is uncertain can be marked delivered.")
    do_record("reply.confirmed", case=reply.case, actor=actor, reply=reply.pk)
    # The platform's id is not known: the reply's key stands in for it.
    record_sent(reply, f"desk-{reply.delivery_key}", "")


@transaction.atomic
def do_acknowledge_and_continue(case: Case, author: User, public_text: str, private_text: str,
                                confirm_warnings: Iterable[str] = (),
                                follow_up: "FollowUpSpec | None" = None) -> list[Reply]:
    """Acknowledge the customer in the thread and continue in a private message, in
    one step: neither is stored unless both pass. The follow-up rides on the private one."""
    facts = channels.channel(case.channel)
    if not facts.private_messages:
        raise ActionError(f"{facts.label} has no private messages: reply publicly and ask "
                          "the customer to reach you by e-mail or phone.")
    if not facts.public_replies:
        return [do_submit_reply(case, author, private_text, "private", confirm_warnings,
                                follow_up)]
    confirm_warnings = set(confirm_warnings)
    findings = {label: reply_findings(case, text, visibility) for label, text, visibility in
                (("Public acknowledgement", public_text, "public"),
                 ("Private message", private_text, "private"))}
    blocking = [(label, f) for label, found in findings.items() for f in found if f.blocking]
    unconfirmed = [(label, f) for label, found in findings.items() for f in found
                   if not f.blocking and f.check not in confirm_warnings]
    for refused, error in ((blocking, ActionError), (unconfirmed, NeedsConfirmation)):
        if refused:
            raise error(" ".join(f"{label}: {f.message}" for label, f in refused),
                        [f for _, f in refused])
    return [do_submit_reply(case, author, public_text, "public", confirm_warnings),
            do_submit_reply(case, author, private_text, "private", confirm_warnings, follow_up)]
