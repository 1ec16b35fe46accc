"""Saved replies: canned answers the composer offers for a case, with variables in
braces filled from the case and the agent; who may manage them.

A saved reply is checked when it is saved: a variable the desk does not know
would otherwise reach a customer as "{frist_name}".
"""

from string import Formatter

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from socialdesk.accounts.models import Team, User
from socialdesk.audit.actions import do_record
from socialdesk.cases.actions import ActionError, NotPermitted
from socialdesk.cases.models import Case, SavedReply
from socialdesk.cases.queries import is_admin, teams_visible_to
from socialdesk.ingestion.models import Post

VARIABLES = {
    "first_name": "the customer's first name (their handle with @ when no name is known)",
    "agent_name": "your first name, or your username",
    "case_ref": "the case's reference, e.g. C-000042",
}
NAME_MAX_CHARS = 100
TEXT_MAX_CHARS = 20_000


# --------------------------------------------------------------------------
# The text and its variables
# --------------------------------------------------------------------------

def _parts(text: str) -> list[tuple[str, str | None]]:
    """(literal text, variable or None) pairs; ActionError for anything else in braces."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        raise ActionError("A brace is not closed: write {{ and }} for a literal brace.") from None
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (name not in VARIABLES or spec or conversion):
            shown = "{" + name + (f"!{conversion}" if conversion else "") \
                + (f":{spec}" if spec else "") + "}"
            raise ActionError(f"{shown} is not a variable the desk knows; use "
                              + ", ".join("{" + v + "}" for v in VARIABLES) + ".")
        parts.append((literal, name))
    return parts


def check_text(text: str) -> str:
    """The saved reply's text as stored, or ActionError for an empty one or an unknown
    variable."""
    text = text.strip()
    if not text:
        raise ActionError("A saved reply needs some text.")
    if len(text) > TEXT_MAX_CHARS:
        raise ActionError(f"A saved reply has at most {TEXT_MAX_CHARS:,} characters.")
    _parts(text)
    return text


def variables_for(case: Case, agent: User) -> dict[str, str]:
    return {"first_name": first_name_of(case), "agent_name": agent.first_name.strip()
            or agent.username, "case_ref": case.ref}


def first_name_of(case: Case) -> str:
    """The contact's first name, else their name on the channel, else "@handle"."""
    author = (Post.objects.filter(case=case, direction=Post.Direction.INBOUND)
              .select_related("author").order_by("created_at", "id").first())
    identity = author.author if author else (
        case.contact.identities.filter(channel=case.channel).order_by("id").first())
    for name in (case.contact.name, identity.name if identity else ""):
        if name.strip():
            return name.split()[0]
    return f"@{identity.handle}" if identity else "there"


def render_saved_reply(saved: SavedReply, case: Case, agent: User) -> str:
    """The saved reply's text for this case; ActionError when the stored text holds a
    variable the desk does not know (it is never sent with the braces in)."""
    values = variables_for(case, agent)
    return "".join(literal + (values[name] if name else "")
                   for literal, name in _parts(saved.text))


# --------------------------------------------------------------------------
# Which saved replies a case offers, and who manages them
# --------------------------------------------------------------------------

def saved_replies_for(case: Case, user: User) -> list[SavedReply]:
    """Active saved replies for the case's channel and language and for the case's team
    or one of the user's (an empty field matches any), the most specific first."""
    teams = {case.team_id, *user.teams.values_list("id", flat=True)} - {None}
    rows = SavedReply.objects.filter(
        Q(is_active=True), Q(channel="") | Q(channel=case.channel),
        Q(team__isnull=True) | Q(team_id__in=teams))
    if case.lang:
        primary = case.lang.split("-")[0]
        rows = rows.filter(Q(lang="") | Q(lang__iexact=case.lang) | Q(lang__iexact=primary))
    return sorted(rows.select_related("team"),
                  key=lambda s: (-(4 * bool(s.team_id) + 2 * bool(s.channel) + bool(s.lang)),
                                 s.name.lower(), s.pk))


def may_manage_saved_replies(user: User) -> bool:
    return user.is_active and (is_admin(user) or user.role == User.Role.SUPERVISOR)


def teams_managed_by(user: User) -> QuerySet[Team]:
    """Admins: every team. Supervisors: the teams they see (those they belong to or
    supervise, and the teams below). Agents: none."""
    if not may_manage_saved_replies(user):
        return Team.objects.none()
    return teams_visible_to(user)


def saved_replies_managed_by(user: User) -> QuerySet[SavedReply]:
    rows = SavedReply.objects.select_related("team", "created_by")
    if is_admin(user) and user.is_active:
        return rows.order_by("name", "id")
    return rows.filter(team__in=teams_managed_by(user)).order_by("name", "id")


def access_saved_reply(user: User, saved_id: int) -> SavedReply:
    """A saved reply this user may manage; 404 otherwise."""
    try:
        return saved_replies_managed_by(user).get(pk=saved_id)
    except SavedReply.DoesNotExist:
        raise Http404("No such saved reply") from None


def _check_team(saved: SavedReply, actor: User) -> None:
    if is_admin(actor):
        return
    if saved.team_id is None:
        raise NotPermitted("Only an admin keeps saved replies for every team; choose one of "
                           "your teams.")
    if not teams_managed_by(actor).filter(pk=saved.team_id).exists():
        raise NotPermitted("You manage the saved replies of your own teams only.")


# --------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------

@transaction.atomic
def do_save_saved_reply(saved: SavedReply, actor: User) -> SavedReply:
    """Create or update a saved reply, its text checked for unknown variables first."""
    if not may_manage_saved_replies(actor):
        raise NotPermitted("Only supervisors and admins manage saved replies.")
    _check_team(saved, actor)
    saved.name = saved.name.strip()
    if not saved.name or len(saved.name) > NAME_MAX_CHARS:
        raise ActionError(f"A saved reply needs a name of at most {NAME_MAX_CHARS} characters.")
    saved.text = check_text(saved.text)
    saved.channel, saved.lang = saved.channel.strip().lower(), saved.lang.strip().lower()
    created = saved.pk is None
    if created:
        saved.created_by = actor
    saved.save()
    do_record("saved_reply.created" if created else "saved_reply.changed", actor=actor,
              saved_reply=saved.pk, name=saved.name, team=saved.team.slug if saved.team else None,
              channel=saved.channel, lang=saved.lang, is_active=saved.is_active)
    return saved


@transaction.atomic
def do_delete_saved_reply(saved: SavedReply, actor: User) -> None:
    if not may_manage_saved_replies(actor):
        raise NotPermitted("Only supervisors and admins manage saved replies.")
    _check_team(saved, actor)
    do_record("saved_reply.deleted", actor=actor, saved_reply=saved.pk, name=saved.name,
              team=saved.team.slug if saved.team else None, text=saved.text)
    saved.delete()
