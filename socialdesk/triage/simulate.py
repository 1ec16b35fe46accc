"""Replay posts under a candidate policy and the active one, and compare.

Stored posts are replayed from what their triage kept (category, sentiment,
labels, cues, topics, author context) with the post's channel, visibility and
followers, so the comparison shows what the policy change alone does: no model
runs again. A volume spike is replayed as it was recorded (a stored cue),
except under a policy with volume spikes off, which never gives that cue. A
file of posts in the import schema goes through the whole engine under each
policy instead, since nothing was kept for it; its volume spikes are counted
within the file's own posts, in file order, as an import of it would count them.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import Record
from socialdesk.triage import spikes
from socialdesk.triage.engine import PostInput, TriageResult, triage_batch
from socialdesk.triage.models import Triage
from socialdesk.triage.policy import NEEDS_RESPONSE, Outcome, Policy, evaluate, severity_of

CHUNK = 5000
FILE_BATCH = 1000
EXCERPT_CHARS = 100
# First-response targets, grouped the way a staffing plan reads them.
SLA_BUCKETS = ((30, "≤30m"), (60, "≤1h"), (240, "≤4h"), (1440, "≤24h"))
SLA_LONGER, SLA_NONE = ">24h", "none"
SLA_ORDER = (*(name for _, name in SLA_BUCKETS), SLA_LONGER, SLA_NONE)
CHANGED_FIELDS = ("decision", "priority", "reply_mode", "owner")


def sla_bucket(minutes: int | None) -> str:
    if minutes is None:
        return SLA_NONE
    for limit, name in SLA_BUCKETS:
        if minutes <= limit:
            return name
    return SLA_LONGER


@dataclass
class Comparison:
    """Counts of what changes between the current and the candidate outcome, post by post."""

    examples_wanted: int = 5
    posts: int = 0
    changed: int = 0
    changes: dict[str, Counter] = field(
        default_factory=lambda: {name: Counter() for name in CHANGED_FIELDS})
    queues: dict[str, Counter] = field(
        default_factory=lambda: {"current": Counter(), "candidate": Counter()})
    sla: dict[str, Counter] = field(
        default_factory=lambda: {"current": Counter(), "candidate": Counter()})
    examples: list[dict] = field(default_factory=list)
    _more: list[dict] = field(default_factory=list)
    _shown: set = field(default_factory=set)

    def add(self, ref: str, text: str, old: Outcome, old_rule: str, new: Outcome,
            new_rule: str) -> None:
        self.posts += 1
        for side, outcome in (("current", old), ("candidate", new)):
            if outcome.decision in NEEDS_RESPONSE:
                self.queues[side][outcome.owner] += 1
                self.sla[side][outcome.owner, sla_bucket(outcome.first_response_minutes)] += 1
        if old == new:
            return
        self.changed += 1
        for name in CHANGED_FIELDS:
            before, after = getattr(old, name), getattr(new, name)
            if before != after:
                self.changes[name][before, after] += 1
        self._keep_example(ref, text, old, old_rule, new, new_rule)

    def _keep_example(self, ref, text, old, old_rule, new, new_rule) -> None:
        # One example per kind of change first, so a few examples show the
        # variety, then more of any kind to fill the list.
        kind = (old.decision, new.decision, old_rule, new_rule)
        if kind in self._shown:
            if len(self._more) >= self.examples_wanted:
                return
            kept = self._more
        else:
            if len(self._shown) >= self.examples_wanted * 4:
                return
            self._shown.add(kind)
            kept = self.examples
        excerpt = " ".join(text.split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[:EXCERPT_CHARS - 1] + "…"
        kept.append({
            "post": ref, "text": excerpt,
            "current": {**_shown_outcome(old), "rule": old_rule},
            "candidate": {**_shown_outcome(new), "rule": new_rule},
        })

    def report(self, current: Policy, candidate: Policy, source: str) -> dict:
        teams = sorted(set(self.queues["current"]) | set(self.queues["candidate"]))
        # A post whose decision changes says the most: those first.
        examples = sorted(self.examples, key=lambda e: (
            e["current"]["decision"] == e["candidate"]["decision"]))
        examples = (examples + self._more)[:self.examples_wanted]
        return {
            "current": {"name": current.name, "version": current.version},
            "candidate": {"name": candidate.name},
            "source": source,
            "posts": self.posts,
            "changed": self.changed,
            "changes": {name: [{"from": a, "to": b, "posts": n}
                               for (a, b), n in counter.most_common()]
                        for name, counter in self.changes.items()},
            "queues": [{"team": team, "current": self.queues["current"][team],
                        "candidate": self.queues["candidate"][team]} for team in teams],
            "sla": [{"team": team, "target": bucket,
                     "current": self.sla["current"][team, bucket],
                     "candidate": self.sla["candidate"][team, bucket]}
                    for team in teams for bucket in SLA_ORDER
                    if self.sla["current"][team, bucket] or self.sla["candidate"][team, bucket]],
            "examples": examples,
        }


def _shown_outcome(outcome: Outcome) -> dict:
    return {"decision": outcome.decision, "priority": outcome.priority,
            "reply_mode": outcome.reply_mode, "owner": outcome.owner,
            "first_response": sla_bucket(outcome.first_response_minutes)}


def _judge(policy: Policy, facts: dict) -> tuple[Outcome, str]:
    if policy.volume_spike is None and spikes.CUE in facts["cues"]:
        facts = {**facts, "cues": facts["cues"] - {spikes.CUE}}
    facts["severity"], _ = severity_of(policy, facts)
    rule, outcome, _ = evaluate(policy, facts)
    return outcome, rule.name


# What a replay reads of a stored triage and its post: plain values, a chunk at a time.
_COLUMNS = ("post_id", "post__channel", "post__external_id", "post__text", "post__visibility",
            "post__followers", "post__author__contact__tier", "lang", "sentiment",
            "sentiment_score", "category", "labels", "topics", "cues", "author",
            "post__account")
_PLACEHOLDER = Outcome("monitor", "P4", "none", "care", None)


def stored_triages(since: datetime | None = None, limit: int | None = None) -> Iterator[tuple]:
    """Rows of _COLUMNS for every triaged inbound post (posted since `since`; the most
    recent `limit`), in post order, read in chunks by key: no query per row."""
    rows = Triage.objects.filter(post__direction=Post.Direction.INBOUND)
    if since is not None:
        rows = rows.filter(post__created_at__gte=since)
    last = 0
    if limit is not None:
        if limit <= 0:
            return
        cut = list(rows.order_by("-post_id").values_list("post_id", flat=True)[limit:limit + 1])
        last = cut[0] if cut else 0
    while True:
        chunk = list(rows.filter(post_id__gt=last).order_by("post_id")
                     .values_list(*_COLUMNS)[:CHUNK])
        yield from chunk
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][0]


def stored_facts(row: tuple) -> dict:
    """The facts the policy reads, from one stored row; built by the engine's own
    `TriageResult.facts`, so a replay sees what a fresh triage would."""
    (post_id, channel, external_id, text, visibility, followers, tier, lang, sentiment,
     score, category, labels, topics, cues, author, account) = row
    author = author or {}
    result = TriageResult(
        channel=channel, external_id=external_id, lang=lang, sentiment=sentiment,
        sentiment_score=score, category=category, severity=1, outcome=_PLACEHOLDER,
        cues={c["cue"]: tuple(c.get("evidence") or ()) for c in cues or ()},
        labels=labels or [], topics=topics or [],
    )
    post = PostInput(
        channel=channel, external_id=external_id, text=text, visibility=visibility,
        # The post's own follower count, as the pipeline's decision read it.
        followers=followers, lang=lang,
        tier=author.get("tier", tier or "") or "",
        account_owner=author.get("account_owner", "") or "",
        repeat_poster=bool(author.get("repeat_poster", False)), account=account or "",
    )
    return result.facts(post)


def simulate_stored(current: Policy, candidate: Policy, since: datetime | None = None,
                    limit: int | None = None, examples: int = 5) -> dict:
    """Replay stored posts' enrichment under both policies."""
    comparison = Comparison(examples)
    for row in stored_triages(since, limit):
        facts = stored_facts(row)
        old, old_rule = _judge(current, facts)
        new, new_rule = _judge(candidate, facts)
        comparison.add(f"{row[1]}:{row[2]} (post {row[0]})", row[3], old, old_rule, new,
                       new_rule)
    return comparison.report(current, candidate, "stored")


def simulate_records(records: Iterable[Record], current: Policy, candidate: Policy,
                     examples: int = 5) -> dict:
    """Run posts from a file through the whole engine under each policy."""
    from socialdesk.pipeline import record_input  # the pipeline imports much of the desk

    comparison = Comparison(examples)
    batch: list[PostInput] = []
    times: list[datetime] = []
    # The file's posts so far, per subject and quarter hour: its own volume history.
    counts: spikes.Tally = Counter()

    def run(batch: list[PostInput], times: list[datetime]) -> None:
        before = triage_batch(batch, current)
        after = triage_batch(batch, candidate)
        # Topics, cues and category come from the text, the same under both policies.
        counts.update(spikes.tally(spikes.counted(zip(batch, before, times, strict=True))))
        for policy, results in ((current, before), (candidate, after)):
            spikes.mark(spikes.counted(zip(batch, results, times, strict=True)), policy, counts)
        for post, old, new in zip(batch, before, after, strict=True):
            old_rule = _rule_name(current, old, post)
            new_rule = _rule_name(candidate, new, post)
            comparison.add(f"{post.channel}:{post.external_id}", post.text, old.outcome,
                           old_rule, new.outcome, new_rule)

    for record in records:
        if record.direction != Post.Direction.INBOUND:
            continue
        batch.append(record_input(record))
        times.append(record.created_at)
        if len(batch) >= FILE_BATCH:
            run(batch, times)
            batch, times = [], []
    if batch:
        run(batch, times)
    return comparison.report(current, candidate, "file")


def _rule_name(policy: Policy, result: TriageResult, post: PostInput) -> str:
    facts = result.facts(post)
    rule, _, _ = evaluate(policy, facts)
    return rule.name


def render(report: dict) -> str:
    """The report as plain-text tables."""
    lines = []
    current, candidate = report["current"], report["candidate"]
    lines.append(f"Current:   {current['name']} (v{current['version']}, active)")
    lines.append(f"Candidate: {candidate['name']}")
    what = "stored posts, enrichment as stored" if report["source"] == "stored" \
        else "posts from the file, triaged under each policy"
    posts = report["posts"]
    lines.append(f"Posts replayed: {posts:,} ({what})")
    if report.get("rejected"):
        lines.append(f"Records rejected: {report['rejected']:,} (listed above)")
    share = f" ({report['changed'] / posts:.1%})" if posts else ""
    lines.append(f"Posts whose outcome changes: {report['changed']:,}{share}")
    titles = {"decision": "Decision", "priority": "Priority", "reply_mode": "Reply mode",
              "owner": "Owner team"}
    for name, title in titles.items():
        changes = report["changes"][name]
        lines.append("")
        if not changes:
            lines.append(f"{title}: no change")
            continue
        lines.append(f"{title + ' changes':<38}{'posts':>6}")
        for change in changes:
            label = f"{change['from']} → {change['to']}"
            lines.append(f"  {label:<36}{change['posts']:>6,}")
    lines.append("")
    lines.append("Needs-response queue per owner team (decision respond or escalate)")
    lines.append(f"  {'team':<16}{'current':>9}{'candidate':>11}{'change':>9}")
    for row in report["queues"]:
        lines.append(f"  {row['team']:<16}{row['current']:>9,}{row['candidate']:>11,}"
                     f"{row['candidate'] - row['current']:>+9,}")
    if not report["queues"]:
        lines.append("  (no post needs a response under either policy)")
    lines.append("")
    lines.append("First-response targets per team (needs-response posts)")
    lines.append(f"  {'team':<16}{'target':<8}{'current':>9}{'candidate':>11}{'change':>9}")
    for row in report["sla"]:
        lines.append(f"  {row['team']:<16}{row['target']:<8}{row['current']:>9,}"
                     f"{row['candidate']:>11,}{row['candidate'] - row['current']:>+9,}")
    if report["examples"]:
        lines.append("")
        lines.append("Examples of posts that change")
        for example in report["examples"]:
            old, new = example["current"], example["candidate"]
            lines.append(f"  {example['post']}: \"{example['text']}\"")
            lines.append(f"    {_line(old)}  →  {_line(new)}")
    return "\n".join(lines) + "\n"


def _line(outcome: dict) -> str:
    return (f"{outcome['decision']} {outcome['priority']} {outcome['reply_mode']} "
            f"{outcome['owner']} {outcome['first_response']} (rule {outcome['rule']})")
