"""Enrich and triage posts: pure functions over batches, no database.

`socialdesk triage FILE`, the evaluation harness and the pipeline all call
`triage_batch`, so what an analyst sees offline is what the desk decides.
"""

import re
from dataclasses import dataclass, field
from typing import Protocol

from socialdesk.triage import cues as rules
from socialdesk.triage import text as signals
from socialdesk.triage.policy import Outcome, Policy, decide, severity_of

MODEL_VERSION = "rules-vader-1"
# A link, with or without its scheme ("bit-prize.example/kx92" counts too).
_URL = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|co|ly|me|xyz|info|biz|shop|"
                  r"link|example)(?:/|\b)", re.IGNORECASE)
_QUESTION = re.compile(r"\?\s*(?:$|[^\w]*$)|\?\s")


@dataclass(slots=True)
class PostInput:
    channel: str
    external_id: str
    text: str
    visibility: str = "public"
    followers: int | None = None
    lang: str = ""
    tier: str = ""
    # Author context from the contact profile (filled by the pipeline; empty offline).
    account_owner: str = ""
    repeat_poster: bool = False


@dataclass(slots=True)
class TriageResult:
    channel: str
    external_id: str
    lang: str
    sentiment: str
    sentiment_score: float
    category: str
    severity: int
    outcome: Outcome
    cues: dict[str, tuple[str, ...]]
    reasons: list[str] = field(default_factory=list)
    policy_version: int = 0
    model_version: str = MODEL_VERSION
    model_tier: str = "fast"
    sentiment_probs: dict[str, float] = field(default_factory=dict)
    # Every category that applies, primary first: [{"category": c, "score": p, "by": why}].
    labels: list[dict] = field(default_factory=list)
    # Brand topics matched: [{"topic": slug, "by": why}].
    topics: list[dict] = field(default_factory=list)
    # The author context the decision saw (followers, tier, account owner, repeat poster).
    author: dict = field(default_factory=dict)

    def facts(self, post: PostInput) -> dict:
        return {
            "category": self.category, "sentiment": self.sentiment, "channel": post.channel,
            "visibility": post.visibility, "decision": self.outcome.decision,
            "priority": self.outcome.priority, "owner": self.outcome.owner,
            "tier": post.tier, "lang": self.lang, "cues": set(self.cues),
            "severity": self.severity, "followers": post.followers, "text": post.text,
            "labels": {label["category"] for label in self.labels} or {self.category},
            "topics": {topic["topic"] for topic in self.topics},
            "account_owner": post.account_owner, "repeat_poster": post.repeat_poster,
        }


def categorise(text: str, sentiment: str, score: float, cues: dict) -> tuple[str, str]:
    """(category, reason). The order encodes which signal wins when several match."""
    found = rules.category_matches(text)

    def because(name: str) -> str:
        return f"category {name}: matched " + ", ".join(repr(w) for w in found[name][:4])

    if "safety" in cues:
        return "crisis", "category crisis: safety cue " + repr(cues["safety"][0])
    spam = found.get("spam", ())
    if spam and (len(spam) >= 2 or _URL.search(text)):
        return "spam", because("spam")
    if "abuse" in found and sentiment != "positive":
        return "abuse", because("abuse")
    if "misinformation" in found:
        return "misinformation", because("misinformation")
    complaint = found.get("complaint", ())
    strong = rules.STRONG_COMPLAINT.search(text)
    if strong and score < 0.5:
        return "complaint", f"category complaint: {strong.group().lower()!r} names a failure"
    if "suggestion" in found and len(complaint) < 2:
        return "suggestion", because("suggestion")
    if "rant" in found and sentiment != "positive" and len(complaint) < 2:
        return "rant", because("rant")
    if complaint and (sentiment == "negative" or len(complaint) >= 2):
        return "complaint", because("complaint")
    # Leaving or an outage is a complaint however politely it is put.
    if ("churn" in cues or "outage" in cues) and score < 0.5:
        cue = "churn" if "churn" in cues else "outage"
        return "complaint", f"category complaint: {cue} cue {cues[cue][0]!r}"
    if "question" in found or _QUESTION.search(text):
        if "question" in found:
            return "question", because("question")
        return "question", "category question: question mark"
    if sentiment == "positive" and "praise" in found:
        return "praise", because("praise")
    if sentiment == "negative":
        return "complaint", "category complaint: negative sentiment, no specific words"
    return "other", "category other: no rule matched"


def triage_one(post: PostInput, policy: Policy, topics: list[dict] | None = None) -> TriageResult:
    lang = post.lang or signals.detect_language(post.text)
    sentiment, score = signals.sentiment(post.text)
    cues = {m.name: m.evidence for m in rules.risk_cues(post.text)}
    category, category_reason = categorise(post.text, sentiment, score, cues)
    result = TriageResult(
        channel=post.channel, external_id=post.external_id, lang=lang, sentiment=sentiment,
        sentiment_score=score, category=category, severity=1,
        outcome=Outcome("monitor", "P4", "none", "care", None), cues=cues,
        policy_version=policy.version, topics=topics or [],
    )
    facts = result.facts(post)
    result.severity, severity_reason = severity_of(policy, facts)
    facts["severity"] = result.severity
    result.outcome, decision_reasons = decide(policy, facts)
    result.reasons = [
        f"sentiment {sentiment} (VADER compound {score:+.2f})",
        category_reason,
        *(f"cue {name}: " + ", ".join(repr(e) for e in found) for name, found in cues.items()),
        severity_reason,
        *decision_reasons,
    ]
    return result


class TopicMatcher(Protocol):
    """Finds the brand's topics in a batch of texts (socialdesk.triage.topics)."""

    def match(self, texts: list[str]) -> list[list[dict]]: ...


def triage_batch(posts: list[PostInput], policy: Policy,
                 topics: TopicMatcher | None = None) -> list[TriageResult]:
    found = topics.match([p.text for p in posts]) if topics else [[] for _ in posts]
    return [triage_one(post, policy, matched) for post, matched in zip(posts, found, strict=True)]
