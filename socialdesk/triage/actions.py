"""Triage stored posts with the active policy, and manage policy versions."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from socialdesk.ingestion.queries import PostRow
from socialdesk.lib.bulk import insert_rows
from socialdesk.triage.engine import PostInput, TriageResult
from socialdesk.triage.models import ResponsePolicy, Triage
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, Policy, parse_policy

_compiled: dict[int, Policy] = {}


def active_policy() -> Policy:
    row = ResponsePolicy.objects.filter(is_active=True).only("version").first()
    if row is None:
        row = do_install_policy(DEFAULT_POLICY_PATH.read_text(), actor=None)
    if row.version not in _compiled:
        source = ResponsePolicy.objects.values_list("source", flat=True).get(pk=row.pk)
        _compiled[row.version] = parse_policy(source, version=row.version)
    return _compiled[row.version]


@transaction.atomic
def do_install_policy(source: str, actor=None) -> ResponsePolicy:
    """Validate and activate a new policy version. Raises PolicyError and leaves the
    active policy in force when the YAML is invalid."""
    policy = parse_policy(source)
    version = (ResponsePolicy.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    ResponsePolicy.objects.filter(is_active=True).update(is_active=False)
    return ResponsePolicy.objects.create(version=version, name=policy.name, source=source,
                                         is_active=True, created_by=actor)


def post_input(post: PostRow) -> PostInput:
    return PostInput(
        channel=post.channel, external_id=post.external_id, text=post.text,
        visibility=post.visibility, followers=post.followers, lang=post.lang, tier=post.tier,
    )


def do_store_triage(posts: list[PostRow], results: list[TriageResult]) -> None:
    """One Triage row per inbound post."""
    now = timezone.now()
    insert_rows(Triage, TRIAGE_FIELDS, [
        (post.id, r.lang, r.sentiment, r.sentiment_score, r.category, r.outcome.decision,
         r.severity, r.outcome.priority, r.outcome.reply_mode, r.outcome.owner,
         r.outcome.first_response_minutes,
         [{"cue": k, "evidence": list(v)} for k, v in r.cues.items()], r.reasons,
         r.policy_version, r.model_version, now, r.sentiment_probs, r.labels, r.topics,
         r.author, r.model_tier)
        for post, r in zip(posts, results, strict=True)
    ], returning=False)


TRIAGE_FIELDS = ["post", "lang", "sentiment", "sentiment_score", "category", "decision",
                 "severity", "priority", "reply_mode", "owner_team", "first_response_minutes",
                 "cues", "reasons", "policy_version", "model_version", "created_at",
                 "sentiment_probs", "labels", "topics", "author", "model_tier"]
