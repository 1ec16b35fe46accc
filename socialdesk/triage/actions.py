"""Triage stored posts with the active policy, and manage policy versions."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.ingestion.queries import PostRow
from socialdesk.lib.bulk import insert_rows
from socialdesk.triage.engine import PostInput, TriageResult
from socialdesk.triage.models import ResponsePolicy, Topic, Triage
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, parse_policy
from socialdesk.triage.queries import topic_uses
from socialdesk.triage.topics import TopicError, TopicSpec

_compiled: dict[tuple[int, str], Policy] = {}


def active_policy() -> Policy:
    row = ResponsePolicy.objects.filter(is_active=True).values_list("version", "source").first()
    if row is None:
        installed = do_install_policy(DEFAULT_POLICY_PATH.read_text(), actor=None)
        row = installed.version, installed.source
    # Keyed by the text as well: a version number names different text in
    # databases that were reset (tests, a fresh demo).
    if row not in _compiled:
        _compiled[row] = parse_policy(row[1], version=row[0])
    return _compiled[row]


@transaction.atomic
def do_install_policy(source: str, actor=None) -> ResponsePolicy:
    """Validate and activate a new policy version. Raises PolicyError and leaves the
    active policy in force when the YAML is invalid."""
    policy = parse_policy(source, known_topics=set(Topic.objects.values_list("slug", flat=True)))
    version = (ResponsePolicy.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    previous = (ResponsePolicy.objects.filter(is_active=True)
                .values_list("version", flat=True).first())
    ResponsePolicy.objects.filter(is_active=True).update(is_active=False)
    row = ResponsePolicy.objects.create(version=version, name=policy.name, source=source,
                                        is_active=True, created_by=actor)
    do_record("policy.installed", actor=actor, version=version, name=policy.name,
              previous=previous)
    return row


@transaction.atomic
def do_activate_policy(version: int, actor=None) -> ResponsePolicy:
    """Make a stored version the active one again (a roll back or forward). The stored
    text is checked first, so a version that no longer loads is refused."""
    row = ResponsePolicy.objects.select_for_update().filter(version=version).first()
    if row is None:
        stored = list(ResponsePolicy.objects.order_by("version").values_list("version", flat=True))
        shown = ", ".join(map(str, stored)) or "none"
        raise PolicyError(f"there is no policy version {version} (stored versions: {shown})")
    if row.is_active:
        return row
    parse_policy(row.source, version=row.version)
    previous = (ResponsePolicy.objects.filter(is_active=True)
                .values_list("version", flat=True).first())
    ResponsePolicy.objects.filter(is_active=True).update(is_active=False)
    ResponsePolicy.objects.filter(pk=row.pk).update(is_active=True)
    row.is_active = True
    do_record("policy.activated", actor=actor, version=row.version, name=row.name,
              previous=previous)
    return row


def post_input(post: PostRow, author: dict | None = None) -> PostInput:
    """`author`: the post's entry of contacts.queries.author_context, when the caller has it.
    Followers stay the post's own count, as `socialdesk triage` sees them offline."""
    author = author or {}
    return PostInput(
        channel=post.channel, external_id=post.external_id, text=post.text,
        visibility=post.visibility, followers=post.followers, lang=post.lang, tier=post.tier,
        account_owner=author.get("account_owner", ""),
        repeat_poster=author.get("repeat_poster", False), account=post.account,
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


def refuse_if_used(slugs: list[str], what: str) -> None:
    """TopicError when the active policy or a routing rule names one of the topics:
    deleting or renaming it would leave a test there that can never hold."""
    uses = topic_uses()
    used = [slug for slug in slugs if slug in uses]
    if used:
        slug = used[0]
        shown = "; ".join(uses[slug])
        raise TopicError(f"cannot {what} topic {slug!r}: it is named by {shown}. Change those "
                         f"first (socialdesk policy install, the routing rules) or keep the topic "
                         f"and set it inactive")


@transaction.atomic
def do_import_topics(specs: list[TopicSpec], replace: bool = False,
                     actor=None) -> dict[str, list[str]]:
    """Create or update topics by slug. Topics the list does not name are kept, or
    deleted with `replace`. Returns the slugs created, updated, unchanged and deleted."""
    existing = {t.slug: t for t in Topic.objects.select_for_update()}
    done: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "deleted": []}
    if replace:
        done["deleted"] = sorted(set(existing) - {spec.slug for spec in specs})
        refuse_if_used(done["deleted"], "delete")
    for spec in specs:
        fields = {"name": spec.name, "keywords": "\n".join(spec.keywords),
                  "examples": "\n".join(spec.examples), "is_active": spec.active}
        topic = existing.get(spec.slug)
        if topic is None:
            Topic.objects.create(slug=spec.slug, **fields)
            done["created"].append(spec.slug)
        elif any(getattr(topic, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(topic, name, value)
            topic.save()  # moves updated_at, which tells the pipeline to rebuild its matcher
            done["updated"].append(spec.slug)
        else:
            done["unchanged"].append(spec.slug)
    if done["deleted"]:
        Topic.objects.filter(slug__in=done["deleted"]).delete()
    if done["created"] or done["updated"] or done["deleted"]:
        do_record("topics.imported", actor=actor, created=done["created"],
                  updated=done["updated"], deleted=done["deleted"])
    return done
