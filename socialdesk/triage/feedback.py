"""Agents correct triage: each correction is a label with who and when, and feeds training.

A correction changes the stored Triage row (metrics read decisions after any
human override), keeps what the desk had said in a Correction row, and, when
the category or sentiment changes, lets the active policy decide again on the
corrected facts, so the priority and first-response target follow the label.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.cases.filing import DECISION_RANK
from socialdesk.cases.models import Case
from socialdesk.cases.queries import cases_visible_to
from socialdesk.cases.redecide import redecide_case
from socialdesk.ingestion.models import Post
from socialdesk.triage.actions import active_policy
from socialdesk.triage.engine import PostInput, TriageResult
from socialdesk.triage.models import Correction, Triage
from socialdesk.triage.policy import DECISIONS, NEEDS_RESPONSE, Outcome, judge

CATEGORIES = ("complaint", "question", "praise", "suggestion", "misinformation", "rant", "abuse",
              "spam", "crisis", "other")
SENTIMENTS = ("negative", "neutral", "positive")
VALUES = {"category": CATEGORIES, "sentiment": SENTIMENTS, "decision": DECISIONS}
FIELDS = tuple(VALUES)
NOTE_MAX_CHARS = 2000


class CorrectionError(ValueError):
    """A correction the desk refuses, with a message for the person who made it."""


def access_post(user: User, post_id: int, case: Case | None = None) -> Post:
    """An inbound post of a case this user may see (of `case`, when given); 404 otherwise,
    with no hint that it exists."""
    posts = Post.objects.filter(direction=Post.Direction.INBOUND,
                                case__in=cases_visible_to(user))
    if case is not None:
        posts = posts.filter(case=case)
    try:
        return posts.select_related("triage", "case", "author__contact").get(pk=post_id)
    except Post.DoesNotExist:
        raise Http404("No such post") from None


def check_field(field: str) -> None:
    if field not in VALUES:
        raise CorrectionError(f"Unknown field {field!r}: a correction changes "
                              f"{', '.join(FIELDS)}.")


def check_correction(field: str, value: str) -> None:
    check_field(field)
    if value not in VALUES[field]:
        raise CorrectionError(f"{value!r} is not a {field}: choose one of "
                              f"{', '.join(VALUES[field])}.")


def stored_facts(triage: Triage, post: Post) -> dict:
    """The facts the policy reads, rebuilt from a stored triage and its post.

    The engine's own `TriageResult.facts` builds them, so a rule sees after a
    correction exactly what it would have seen on a fresh triage. Author
    context is what the decision saw when it was stored, where it was kept.
    """
    author = triage.author or {}
    result = TriageResult(
        channel=post.channel, external_id=post.external_id, lang=triage.lang,
        sentiment=triage.sentiment, sentiment_score=triage.sentiment_score,
        category=triage.category, severity=triage.severity,
        outcome=Outcome(triage.decision, triage.priority, triage.reply_mode, triage.owner_team,
                        triage.first_response_minutes),
        cues={c["cue"]: tuple(c.get("evidence") or ()) for c in triage.cues},
        labels=list(triage.labels), topics=list(triage.topics),
    )
    source = PostInput(
        channel=post.channel, external_id=post.external_id, text=post.text,
        visibility=post.visibility, followers=author.get("followers", post.followers),
        lang=triage.lang, tier=author.get("tier", post.author.contact.tier),
        account_owner=author.get("account_owner", ""),
        repeat_poster=bool(author.get("repeat_poster", False)), account=post.account,
    )
    return result.facts(source)


@transaction.atomic
def do_correct_triage(post: Post, field: str, value: str, actor: User,
                      note: str = "") -> Correction:
    """Store one correction of a post's triage and apply it to the triage and its case."""
    check_correction(field, value)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise CorrectionError(f"The note has {len(note):,} characters; at most "
                              f"{NOTE_MAX_CHARS:,} are kept.")
    if actor is None or not actor.is_authenticated:
        raise CorrectionError("A correction needs the person who made it.")
    # Locked and read again here: two agents correcting one post at once must
    # each see the other's value as `previous`.
    triage = Triage.objects.select_for_update().filter(post_id=post.pk).first()
    if triage is None:
        raise CorrectionError("This post has no triage to correct: only inbound posts "
                              "are triaged.")
    previous = getattr(triage, field)
    if previous == value:
        raise CorrectionError(f"The {field} is already {value}; nothing to correct.")

    before = _outcome_of(triage)
    setattr(triage, field, value)
    now = timezone.now()
    triage.corrected_at = now
    triage.reasons = [*triage.reasons,
                      f"corrected by {actor.username}: {field} {previous} → {value}"]
    if field == "category":
        triage.labels = _relabel(triage.labels, previous, value, actor)
    if field != "decision":
        _decide_again(triage, post)
    triage.save()
    post.triage = triage  # callers show the corrected triage without reading it again
    correction = Correction.objects.create(post=post, field=field, value=value,
                                           previous=previous, note=note, created_by=actor)
    after = _outcome_of(triage)

    case = Case.objects.select_for_update().filter(pk=post.case_id).first()
    case_changes = _update_case(case, post, now) if case else {}
    do_record("triage.corrected", case=case, actor=actor, at=now, post=post.pk,
              external_id=post.external_id, field=field, before=previous, after=value,
              note=note, outcome={k: [before[k], after[k]] for k in after
                                  if before[k] != after[k]},
              case_changes=case_changes)
    if "status" in case_changes:
        do_record("case.reopened", case=case, actor=actor, at=now,
                  **{"from": case_changes["status"][0], "post": post.external_id})
    return correction


@transaction.atomic
def do_apply_corrections(post: Post, changes: dict[str, str], actor: User,
                         note: str = "") -> list[Correction]:
    """Several corrections of one post at once (the case page's form), all or none.

    Category and sentiment go first, so that a decision given with them is
    the person's and not undone by the policy deciding again.
    """
    if not changes:
        raise CorrectionError("Nothing changed: pick a different category, sentiment or "
                              "decision.")
    for field in changes:
        check_field(field)
    return [do_correct_triage(post, field, changes[field], actor, note)
            for field in FIELDS if field in changes]


def _outcome_of(triage: Triage) -> dict:
    return {"decision": triage.decision, "priority": triage.priority,
            "reply_mode": triage.reply_mode, "owner": triage.owner_team,
            "first_response_minutes": triage.first_response_minutes,
            "severity": triage.severity}


def _relabel(labels: list[dict], previous: str, value: str, actor: User) -> list[dict]:
    # The person's category leads; the one they overruled no longer applies.
    kept = [label for label in labels if label.get("category") not in (previous, value)]
    return [{"category": value, "score": 1.0, "by": f"corrected by {actor.username}"}, *kept]


def _decide_again(triage: Triage, post: Post) -> None:
    """Apply the active policy to the corrected facts, unless a person set the decision."""
    decided_by = (Correction.objects.filter(post_id=post.pk, field=Correction.Field.DECISION)
                  .select_related("created_by").last())
    if decided_by is not None:
        triage.reasons.append(f"decision {triage.decision} kept: set by "
                              f"{decided_by.created_by.username}")
        return
    policy = active_policy()
    triage.severity, outcome, reasons = judge(policy, stored_facts(triage, post))
    triage.decision, triage.priority = outcome.decision, outcome.priority
    triage.reply_mode, triage.owner_team = outcome.reply_mode, outcome.owner
    triage.first_response_minutes = outcome.first_response_minutes
    triage.policy_version = policy.version
    # The first reason is the severity's.
    triage.reasons.extend([f"decided again under policy v{policy.version}: {reasons[0]}",
                           *reasons[1:]])


def _update_case(case: Case, post: Post, now) -> dict:
    """Bring the case in line with its posts' triage, the way filing combines them.

    The first inbound post gives the category and reply mode, and a correction of
    it decides the case again (cases.redecide: team, assignee, approval gate,
    steps, SLA targets); the most urgent decision and priority of any inbound
    post win. A case the pipeline closed as hidden opens again when a person says
    that a post needs a response; a case a person resolved or closed is left alone.
    """
    hidden_by_pipeline = (case.status == Case.Status.CLOSED and case.decision == "hide"
                          and case.resolved_at is None)
    if not case.is_open and not hidden_by_pipeline:
        return {}
    triages = list(Triage.objects.filter(post__case=case, post__direction=Post.Direction.INBOUND)
                   .order_by("post__created_at", "post_id"))
    if not triages:
        return {}
    first = triages[0]
    wanted = {
        "decision": min((t.decision for t in triages), key=lambda d: DECISION_RANK.get(d, 9)),
        "priority": min(t.priority for t in triages),
    }
    opener = first.post_id == post.pk
    if opener:
        wanted["category"] = first.category
        wanted["reply_mode"] = first.reply_mode
    if hidden_by_pipeline and wanted["decision"] in NEEDS_RESPONSE:
        wanted["status"] = Case.Status.NEW
    changes = {}
    for name, value in wanted.items():
        if getattr(case, name) != value:
            changes[name] = [_shown(getattr(case, name)), _shown(value)]
            setattr(case, name, value)
    if opener:
        changes.update(redecide_case(case, stored_facts(first, post), active_policy(),
                                     first.first_response_minutes, now))
    elif changes:
        case.save(update_fields=[*wanted, "updated_at"])
    return changes


def _shown(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def feedback_examples(field: str) -> list[tuple[str, str]]:
    """(text, label) for training: the latest correction of `field` on each post.

    Posts whose text was erased are left out: there is nothing to learn from.
    """
    check_field(field)
    latest: dict[int, tuple[str, str]] = {}
    rows = (Correction.objects.filter(field=field)
            .order_by("post_id", "created_at", "id").values_list("post_id", "post__text", "value"))
    for post_id, text, value in rows:
        latest[post_id] = (text, value)
    return [(text, value) for text, value in latest.values() if text and text.strip()]


def correction_history(post_ids: list[int]) -> dict[int, list[Correction]]:
    """Corrections per post, oldest first, with who made them: for display."""
    history: dict[int, list[Correction]] = {}
    for correction in corrections_of(post_ids):
        history.setdefault(correction.post_id, []).append(correction)
    return history


def corrections_of(post_ids: list[int]) -> QuerySet[Correction]:
    return (Correction.objects.filter(post_id__in=post_ids).select_related("created_by")
            .order_by("created_at", "id"))
