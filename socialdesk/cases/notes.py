"""Internal notes with @mentions, and who has a case open right now."""

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.cases import steps
from socialdesk.cases.actions import ActionError, acted_fields
from socialdesk.cases.models import Case, CasePresence, Note
from socialdesk.cases.queries import cases_visible_to
from socialdesk.ingestion.models import Post
from socialdesk.notifications.actions import do_notify

NOTE_MAX_CHARS = 10_000
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")

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
    case.save(update_fields=acted_fields(case, ["updated_at"]))
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
