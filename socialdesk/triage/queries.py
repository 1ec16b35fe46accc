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
