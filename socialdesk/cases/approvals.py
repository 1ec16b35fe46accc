"""A second pair of eyes: replies on cases the policy marks (crisis, legal, VIP) wait
for an approver, who sends them (as written or edited) or sends them back."""

from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.cases.actions import ActionError, NotPermitted, reply_findings
from socialdesk.cases.models import Reply
from socialdesk.cases.queries import can_approve
from socialdesk.lib import queue
from socialdesk.notifications.actions import do_notify

COMMENT_MAX_CHARS = 2000


def _awaiting(reply: Reply, approver: User) -> Reply:
    reply = Reply.objects.select_related("case__team", "author").get(pk=reply.pk)
    if not can_approve(approver, reply.case, reply.approval_by):
        raise NotPermitted(f"Only an approver ({reply.approval_by}) or an admin can review "
                          "this reply.")
    if reply.status != Reply.Status.AWAITING_APPROVAL:
        raise ActionError(f"This reply is {reply.get_status_display().lower()}, not awaiting "
                          "approval.")
    return reply


def _review(reply: Reply, approver: User, status: str, **fields) -> None:
    # Claimed on the status: two approvers pressing at once review it once.
    now = timezone.now()
    reviewed = Reply.objects.filter(pk=reply.pk, status=Reply.Status.AWAITING_APPROVAL).update(
        status=status, status_at=now, reviewed_by=approver, reviewed_at=now, **fields)
    if not reviewed:
        raise ActionError("Someone else reviewed this reply a moment ago.")
    reply.status, reply.reviewed_by, reply.reviewed_at = status, approver, now
    for name, value in fields.items():
        setattr(reply, name, value)


@transaction.atomic
def do_approve_reply(reply: Reply, approver: User, text: str | None = None) -> Reply:
    """Send the reply, with the approver's edits if any (checked again for anything
    that would stop it; the approver has read the warnings)."""
    from socialdesk.cases.tasks import deliver_reply

    reply = _awaiting(reply, approver)
    fields = {}
    if text is not None and text.strip() != reply.text:
        blocking = [f for f in reply_findings(reply.case, text, reply.visibility) if f.blocking]
        if blocking:
            raise ActionError(" ".join(f.message for f in blocking), blocking)
        fields["text"] = text.strip()
    _review(reply, approver, Reply.Status.QUEUED, **fields)
    # The follow-up the author asked for stays on the reply (Reply.follow_up) and is
    # scheduled when delivery succeeds; the approver approved it with the text.
    extra = {"follow_up": reply.follow_up} if reply.follow_up else {}
    do_record("reply.approved", case=reply.case, actor=approver, reply=reply.pk,
              author=reply.author.username, edited=bool(fields), approval_by=reply.approval_by,
              **extra)
    do_notify("reply.approved",
              f"{reply.case.ref}: {approver.username} approved your reply"
              f"{' with edits' if fields else ''}; it is on its way.",
              [reply.author], case=reply.case, data={"reply": reply.pk})
    transaction.on_commit(lambda: queue.enqueue(deliver_reply, reply.pk))
    return reply


@transaction.atomic
def do_return_reply(reply: Reply, approver: User, comment: str) -> Reply:
    """Send the reply back to its author with a comment; they may submit a new one."""
    comment = comment.strip()
    if not comment:
        raise ActionError("Say why the reply goes back: the author needs to know what to change.")
    if len(comment) > COMMENT_MAX_CHARS:
        raise ActionError(f"A comment has at most {COMMENT_MAX_CHARS:,} characters.")
    reply = _awaiting(reply, approver)
    _review(reply, approver, Reply.Status.RETURNED, review_comment=comment)
    do_record("reply.returned", case=reply.case, actor=approver, reply=reply.pk,
              author=reply.author.username, comment=comment)
    do_notify("reply.returned",
              f"{reply.case.ref}: {approver.username} sent your reply back: {comment}",
              [reply.author], case=reply.case, data={"reply": reply.pk})
    return reply
