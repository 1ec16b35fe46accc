"""Reads for triage: the brand's topics, as specs and as a ready matcher."""

from django.db.models import Count, Max

from socialdesk.triage.models import Topic
from socialdesk.triage.topics import TopicMatcher, TopicSpec, spec_from

# (count, latest change) of the active topics → the matcher built from them.
_matcher: dict[str, tuple[tuple, TopicMatcher | None]] = {}


def topic_spec(topic: Topic) -> TopicSpec:
    return spec_from(topic.slug, topic.name, topic.keywords.splitlines(),
                     topic.examples.splitlines(), topic.is_active)


def topic_specs(active_only: bool = False) -> list[TopicSpec]:
    topics = Topic.objects.order_by("slug")
    if active_only:
        topics = topics.filter(is_active=True)
    return [topic_spec(t) for t in topics]


def active_topics() -> TopicMatcher | None:
    """A matcher for the active topics, or None when there are none.

    Building one compiles every keyword and vectorises every example, so it is
    kept until the topics change: one small query per batch asks whether they
    did. Every change to a topic (admin, import) saves it, moving `updated_at`;
    a deleted or deactivated topic lowers the count.
    """
    stamp = Topic.objects.filter(is_active=True).aggregate(count=Count("id"),
                                                           latest=Max("updated_at"))
    key = (stamp["count"], stamp["latest"])
    cached = _matcher.get("active")
    if cached is None or cached[0] != key:
        specs = topic_specs(active_only=True)
        cached = _matcher["active"] = (key, TopicMatcher(specs) if specs else None)
    return cached[1]


def topic_uses() -> dict[str, list[str]]:
    """Where each topic is named: slug → ["policy rule 'x' (v3)", "routing rule 'y'", ...].

    The active policy and every stored routing rule (disabled ones too: they may be
    enabled again). A topic deleted from under them would make those tests never hold.
    """
    from socialdesk.lib import conditions
    from socialdesk.routing.models import RoutingRule
    from socialdesk.triage.actions import active_policy

    uses: dict[str, list[str]] = {}
    policy = active_policy()
    for kind, items in (("policy rule", policy.rules), ("policy adjustment", policy.adjustments),
                        ("policy approval", policy.approvals)):
        for item in items:
            for slug in sorted(item.condition.names("topics")):
                uses.setdefault(slug, []).append(f"{kind} {item.name!r} (v{policy.version})")
    for rule in RoutingRule.objects.order_by("position", "id"):
        try:
            condition = conditions.parse(rule.when, f"routing rule {rule.name!r}")
        except conditions.ConditionError:
            continue  # a broken stored rule names nothing the desk can act on
        disabled = "" if rule.enabled else ", disabled"
        for slug in sorted(condition.names("topics")):
            uses.setdefault(slug, []).append(f"routing rule {rule.name!r}{disabled}")
    return uses
