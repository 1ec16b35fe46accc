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
from socialdesk.cases import sla, steps
from socialdesk.cases.guidelines import Draft, Finding, check_draft
from socialdesk.cases.models import Case, CasePresence, FollowUp, Note, Reply
from socialdesk.cases.queries import approvers_to_notify, can_approve, cases_visible_to
from socialdesk.ingestion.models import Post
from socialdesk.notifications.actions import do_notify
from socialdesk.routing.actions import do_release_queues, mark_acted, reassign_deadline
from socialdesk.triage.models import Triage

if TYPE_CHECKING:
    from socialdesk.cases.followups import FollowUpSpec

# Characters a public reply may have on each channel; others have no short limit.
CHANNEL_LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "instagram": 2200,
                  "youtube": 10_000, "reddit": 10_000, "facebook": 8000}
DEFAULT_LIMIT = 20_000
# Channels where the brand cannot write to a person privately.
NO_PRIVATE_MESSAGES = ("youtube",)
NOTE_MAX_CHARS = 10_000
# "@ana" and "@ana.lee", but not an e-mail address's "@example.com".
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")


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


def channel_limit(channel: str) -> int:
    return CHANNEL_LIMITS.get(channel, DEFAULT_LIMIT)


def _acted(case: Case, fields: list[str]) -> list[str]:
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
        fields = _acted(case, fields)
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
        fields = _acted(case, fields)
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
    limit = channel_limit(case.channel) if visibility == "public" else DEFAULT_LIMIT
    return check_draft(Draft(
        text=text, visibility=visibility, channel=case.channel, category=case.category,
        cues=case_cues(case),
        allowed_domains=frozenset(getattr(settings, "BRAND_LINK_DOMAINS", ()) or ()),
        limit=limit,
    ))


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


def _insert_reply(case: Case, author: User, text: str, visibility: str, status: str,
                  confirmed: list[str]) -> Reply:
    post = last_inbound_post(case, visibility)
    try:
        # A savepoint: the caller's transaction must survive the refused insert.
        with transaction.atomic():
            return Reply.objects.create(
                case=case, author=author, text=text, visibility=visibility, status=status,
                in_reply_to=post, confirmed_warnings=confirmed,
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
    reply = _insert_reply(case, author, text, visibility, status, confirmed)
    if case.status == Case.Status.NEW:
        case.status = Case.Status.OPEN
    case.save(update_fields=_acted(case, ["status", "updated_at"]))
    # Stored: colleagues should no longer read "alice is writing a reply".
    CasePresence.objects.filter(case=case, user=author).update(drafting=False)
    details = {"reply": reply.pk, "visibility": visibility, "chars": len(text)}
    if confirmed:
        details["confirmed_warnings"] = confirmed
    if follow_up is not None:
        # The Reply row has no place for it: delivery reads it back from here.
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
    transaction.on_commit(lambda: deliver_reply.delay(reply.pk))
    return reply


def do_queue_reply(case: Case, author: User, text: str, visibility: str) -> Reply:
    """The reply path from before approvals and guideline checks; the same checks apply."""
    return do_submit_reply(case, author, text, visibility)


@transaction.atomic
def do_acknowledge_and_continue(case: Case, author: User, public_text: str, private_text: str,
                                confirm_warnings: Iterable[str] = (),
                                follow_up: "FollowUpSpec | None" = None) -> list[Reply]:
    """Acknowledge the customer in the thread and continue in a private message, in
    one step: neither is stored unless both pass. The follow-up rides on the private one."""
    if case.channel in NO_PRIVATE_MESSAGES:
        raise ActionError(f"{case.channel} has no private messages: reply publicly and ask "
                          "the customer to reach you by e-mail or phone.")
    if case.channel in steps.PRIVATE_ONLY_CHANNELS:
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


# --------------------------------------------------------------------------
# Notes and presence
# --------------------------------------------------------------------------

def mentioned_users(case: Case, text: str) -> list[User]:
    """Active users @named in the text who may see the case; other names stay plain text,
    so that a note never tells an outsider about a case they cannot open."""
    names = {m.rstrip(".") for m in _MENTION.findall(text)}
    if not names:
        return []
    users = User.objects.filter(username__in=names, is_active=True).order_by("username")
    return [u for u in users if cases_visible_to(u).filter(pk=case.pk).exists()]


NOTE_VIA = {Note.Kind.PHONE: "phone call", Note.Kind.EMAIL: "e-mail"}


@transaction.atomic
def do_add_note(case: Case, author: User, text: str, kind: str = Note.Kind.NOTE) -> Note:
    """An internal note; a phone call or e-mail noted here counts as private contact."""
    if kind not in Note.Kind.values:
        raise ActionError(f"A note is one of {', '.join(Note.Kind.values)}, not {kind!r}.")
    text = text.strip()
    if not text:
        raise ActionError("The note is empty.")
    if len(text) > NOTE_MAX_CHARS:
        raise ActionError(f"A note has at most {NOTE_MAX_CHARS:,} characters.")
    now = timezone.now()
    note = Note.objects.create(case=case, author=author, kind=kind, text=text)
    mentions = mentioned_users(case, text)
    note.mentions.set(mentions)
    case.save(update_fields=_acted(case, ["updated_at"]))
    do_record("note.added", case=case, actor=author, at=now, note=note.pk, kind=kind,
              mentions=[u.username for u in mentions])
    others = [u for u in mentions if u != author]
    if others:
        do_notify("note.mention", f"{author.username} mentioned you on {case.ref}: {text}",
                  others, case=case, at=now, data={"note": note.pk})
    if kind in NOTE_VIA:
        steps.do_mark_contact(case, case.channel, Post.Visibility.PRIVATE, NOTE_VIA[kind], now)
    return note


def do_touch_presence(case: Case, user: User, drafting: bool | None,
                      now: datetime) -> CasePresence:
    """Note that the user has the case open (and is, or is not, writing a reply).

    `drafting` None keeps what was known. No audit event: pages poll this every few
    seconds, and who looked when is not a decision anyone needs to trace.
    """
    fields = {"seen_at": now} if drafting is None else {"seen_at": now, "drafting": drafting}
    try:
        with transaction.atomic():
            presence, _ = CasePresence.objects.update_or_create(case=case, user=user,
                                                                defaults=fields)
    except IntegrityError:  # the same person's other tab inserted it first
        CasePresence.objects.filter(case=case, user=user).update(**fields)
        presence = CasePresence.objects.get(case=case, user=user)
    return presence
