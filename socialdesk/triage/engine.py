"""Enrich and triage posts: pure functions over batches, no database.

`socialdesk triage FILE`, the evaluation harness and the pipeline all call
`triage_batch`, so what an analyst sees offline is what the desk decides.

A batch is scored by the trained classifier in one go (classify/), then each
post gets its risk cues, its categories, its severity and the policy's
outcome, with every reason in plain words.
"""

import re
from dataclasses import dataclass, field
from typing import Protocol

from socialdesk.triage import classify
from socialdesk.triage import cues as rules
from socialdesk.triage.classify.datasets import SENTIMENTS
from socialdesk.triage.language import detect_languages
from socialdesk.triage.policy import Outcome, Policy, judge

# A link, with or without its scheme ("bit-prize.example/kx92" counts too).
_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|co|ly|me|xyz|info|biz|shop|"
                   r"link|example)(?:/|\b)", re.IGNORECASE)
_QUESTION = re.compile(r"\?\s*(?:$|[^\w]*$)|\?\s")
# A post is given a category by a model when the model's probability reaches
# this; the heads are trained with balanced classes, so 0.5 is their natural
# boundary.
THRESHOLD = 0.5
# A model alone calls spam from this probability; below it, between THRESHOLD
# and here, only with a link or spam wording beside it: comment spam and a
# happy customer both say "love it, thank you".
SURE_SPAM = 0.9
# A complaint the model is at least this sure of, or that a rule names, outranks
# insults and sarcasm: the customer still needs an answer.
SURE_COMPLAINT = 0.7
# The offensive-language model learned profanity and political insults, not
# abuse of a brand; alone and below this it only labels a post, it does not
# make it a troll's (which the policy monitors instead of answering).
SURE_ABUSE = 0.8
# Categories in the order that picks the primary one when several apply: what
# must be acted on first (RESPONSE-MATRIX.md). "weak complaint" is a complaint
# only a model saw, and not surely; "weak abuse" likewise.
PRIMARY_ORDER = ("crisis", "spam", "complaint", "misinformation", "abuse", "rant",
                 "weak complaint", "suggestion", "question", "praise", "weak abuse", "other")
_RANK = {category: i for i, category in enumerate(PRIMARY_ORDER)}


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
    # The brand's own account the post was addressed to or seen on (lower case, no @).
    account: str = ""


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
    model_version: str = ""
    model_tier: str = "fast"
    sentiment_probs: dict[str, float] = field(default_factory=dict)
    # Every category that applies, primary first: [{"category": c, "score": p, "by": why}].
    labels: list[dict] = field(default_factory=list)
    # Brand topics matched: [{"topic": slug, "by": why}].
    topics: list[dict] = field(default_factory=list)
    # The author context the decision saw (followers, tier, account owner, repeat poster).
    author: dict = field(default_factory=dict)
    # Where the severity and policy reasons start in `reasons`: a cue found after
    # triage (a volume spike) decides again and replaces them.
    decided_from: int = 0

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
            "account": post.account,
        }


class TopicMatcher(Protocol):
    """Finds the brand's topics in a batch of texts (socialdesk.triage.topics)."""

    def match(self, texts: list[str]) -> list[list[dict]]: ...


@dataclass(slots=True)
class Signals:
    """What the classifier said about one post."""

    sentiment: dict[str, float]
    complaint: float
    offensive: float
    spam: float
    irony: float


def _label(category: str, by: str, score: float | None = None) -> dict:
    return {"category": category, "score": None if score is None else round(score, 3), "by": by}


def _quoted(found: tuple[str, ...]) -> str:
    return ", ".join(repr(w) for w in found[:4])


def categorise(text: str, signals: Signals, sentiment: str, cues: dict,
               model: str, words: dict | None = None) -> list[dict]:
    """Every category that applies to the post, primary first, each with its reason.

    Models judge what the public data sets taught them (complaint, abuse, spam,
    sarcasm, sentiment); transparent rules add what no data set labels
    (crisis, suggestion, misinformation, question) and name failures outright.
    """
    words = rules.category_matches(text) if words is None else words
    found: dict[str, dict] = {}
    by_rule: set[str] = set()

    def add(category: str, by: str, score: float | None = None) -> None:
        if score is None:
            by_rule.add(category)
        if category in found:  # a second reason for the same category
            found[category]["by"] += f"; {by}"
            if score is not None:
                found[category]["score"] = round(score, 3)
        else:
            found[category] = _label(category, by, score)

    if "safety" in cues:
        add("crisis", f"safety cue {cues['safety'][0]!r}")
    spam_words = words.get("spam", ())
    link = _LINK.search(text)
    if signals.spam >= SURE_SPAM or (signals.spam >= THRESHOLD and (spam_words or link)):
        add("spam", f"{model} spam model {signals.spam:.2f}", signals.spam)
    if spam_words and (len(spam_words) >= 2 or link):
        add("spam", f"matched {_quoted(spam_words)}")
    positive = sentiment == "positive"
    if signals.complaint >= THRESHOLD:
        add("complaint", f"{model} complaint model {signals.complaint:.2f}", signals.complaint)
    strong = rules.STRONG_COMPLAINT.search(text)
    if strong and not (positive and signals.sentiment["positive"] >= 0.8):
        add("complaint", f"{strong.group().lower()!r} names a failure")
    # Leaving is a complaint however politely it is put; an outage unless the
    # post is happy ("it's back!").
    for cue in ("churn", "outage"):
        if cue in cues and (cue == "churn" or not positive):
            add("complaint", f"{cue} cue {cues[cue][0]!r}")
    if signals.offensive >= THRESHOLD:
        add("abuse", f"{model} offensive-language model {signals.offensive:.2f}",
            signals.offensive)
    if "abuse" in words:
        add("abuse", f"matched {_quoted(words['abuse'])}")
    if "misinformation" in words:
        add("misinformation", f"matched {_quoted(words['misinformation'])}")
    if "rant" in words and not positive:
        add("rant", f"matched {_quoted(words['rant'])}")
        if sarcasm := sarcastic_failure(text, words):
            add("complaint", sarcasm)  # the failure still needs an answer
    if "suggestion" in words:
        add("suggestion", f"matched {_quoted(words['suggestion'])}")
    if "question" in words:
        add("question", f"matched {_quoted(words['question'])}")
    elif _QUESTION.search(text):
        add("question", "question mark")
    if positive and "complaint" not in by_rule:
        praise = words.get("praise")
        by = (f"matched {_quoted(praise)}" if praise
              else f"positive sentiment {signals.sentiment['positive']:.2f}")
        add("praise", by, signals.sentiment["positive"])
    if not found and sentiment == "negative" and signals.sentiment["negative"] >= THRESHOLD:
        # The Air Force chart's last question: a negative post about the brand is
        # an unhappy customer's unless something else explains it.
        add("complaint", f"negative post ({signals.sentiment['negative']:.2f}), nothing else "
                         "explains it", signals.complaint)
    if not found:
        add("other", "no model or rule applies")
    rank = dict(_RANK)
    if "complaint" not in by_rule and (signals.complaint < SURE_COMPLAINT or positive):
        # Only the model saw a complaint, and not surely, or in a happy post:
        # praise, questions and suggestions come first.
        rank["complaint"] = _RANK["praise" if positive else "weak complaint"] + 0.5
    if "abuse" not in by_rule and signals.offensive < SURE_ABUSE:
        rank["abuse"] = _RANK["weak abuse"]
    return sorted(found.values(), key=lambda label: rank[label["category"]])


def _sentiment(probs: dict[str, float]) -> str:
    return max(SENTIMENTS, key=probs.__getitem__)


def triage_batch(posts: list[PostInput], policy: Policy, topics: TopicMatcher | None = None,
                 tier: str | classify.Classifier | None = None) -> list[TriageResult]:
    """Triage a batch; `tier` names the classifier tier or is one (default: TRIAGE_TIER)."""
    if not posts:
        return []
    texts = [p.text for p in posts]
    tier = tier or classify.default_tier()
    classifier = classify.load(tier) if isinstance(tier, str) else tier
    scores = classifier.scores(texts)
    # The cascade says which posts it asked the accurate tier about.
    asked = scores.get("asked")
    found = topics.match(texts) if topics else [[] for _ in posts]
    langs = detect_languages([p.text if not p.lang else "" for p in posts])
    results = []
    for i, post in enumerate(posts):
        probs = dict(zip(SENTIMENTS, (float(p) for p in scores["sentiment"][i]), strict=True))
        signals = Signals(probs, float(scores["complaint"][i]), float(scores["offensive"][i]),
                          float(scores["spam"][i]), float(scores["irony"][i]))
        model_tier = ("accurate" if asked[i] else "fast") if asked is not None \
            else classifier.tier
        results.append(_judge(post, post.lang or langs[i], policy, signals, found[i],
                              classifier.version, model_tier))
    return results


# Cues of harm or loss: a post with one is never good news, whatever its words.
HARM_CUES = ("safety", "fraud", "data_breach")


def situated(sentiment: str, text: str, cues: dict,
             words: dict | None = None) -> tuple[str, str]:
    """The sentiment the desk shows, and why it differs from the model's, if it does.

    The sentiment model reads words: "amazing security guys" after a stolen card,
    "great, another delay, love it", "thinking of going back to a normal kettle"
    read as positive. The situation overrides them: harm or loss and leaving the
    brand are negative (not neutral news either), and so are praise words
    wrapped round a failure. Sarcasm is read from its words;
    the irony model alone is too often sure of it in plain thanks."""
    if sentiment == "negative":
        return sentiment, ""
    harm = next((cue for cue in HARM_CUES if cue in cues), None)
    if harm:
        return "negative", f"{harm} cue {cues[harm][0]!r}: harm or loss is never good news"
    if "churn" in cues:
        return "negative", f"churn cue {cues['churn'][0]!r}: the customer may leave"
    if sentiment != "positive":
        return sentiment, ""
    sarcasm = sarcastic_failure(text, words)
    if sarcasm:
        return "negative", sarcasm
    return sentiment, ""


def sarcastic_failure(text: str, words: dict | None = None) -> str:
    """Why the post is sarcasm about a failure ("great, another delay"), or "".
    `words`: the text's category matches, where the caller has them."""
    words = rules.category_matches(text) if words is None else words
    if not words.get("rant"):
        return ""
    strong = rules.STRONG_COMPLAINT.search(text)
    failure = strong.group() if strong else (words.get("complaint") or ("",))[0]
    if not failure:
        return ""
    return f"{_quoted(words['rant'])} around {failure.lower()!r}: sarcasm about a failure"


def _judge(post: PostInput, lang: str, policy: Policy, signals: Signals, topics: list[dict],
           model_version: str, model_tier: str) -> TriageResult:
    cues = {m.name: m.evidence for m in rules.risk_cues(post.text)}
    # The category rules' matches, read once for the sentiment and the categories.
    words = rules.category_matches(post.text)
    sentiment, overruled = situated(_sentiment(signals.sentiment), post.text, cues, words)
    labels = categorise(post.text, signals, sentiment, cues, model_tier, words)
    category = labels[0]["category"]
    result = TriageResult(
        channel=post.channel, external_id=post.external_id, lang=lang, sentiment=sentiment,
        sentiment_score=round(signals.sentiment["positive"] - signals.sentiment["negative"], 4),
        category=category, severity=1, outcome=Outcome("monitor", "P4", "none", "care", None),
        cues=cues, policy_version=policy.version, model_version=model_version,
        model_tier=model_tier, sentiment_probs={k: round(v, 4) for k, v in
                                                signals.sentiment.items()},
        labels=labels, topics=topics,
    )
    result.severity, result.outcome, decided = judge(policy, result.facts(post))
    shown = ", ".join(f"{k} {v:.2f}" for k, v in signals.sentiment.items())
    if signals.irony >= THRESHOLD:
        shown += f"; sarcasm {signals.irony:.2f}"
    result.reasons = [
        f"sentiment {sentiment} ({model_tier} model: {shown}"
        + (f"; shown as {sentiment}: {overruled})" if overruled else ")"),
        f"category {category}: {labels[0]['by']}",
        *(f"also {label['category']}: {label['by']}" for label in labels[1:]),
        *(cue_reason(name, found) for name, found in cues.items()),
        *(f"topic {topic['topic']}: {topic['by']}" for topic in topics),
    ]
    result.decided_from = len(result.reasons)
    result.reasons.extend(decided)
    return result


def cue_reason(name: str, evidence: tuple[str, ...]) -> str:
    return f"cue {name}: " + ", ".join(repr(e) for e in evidence)


def add_cue(result: TriageResult, post: PostInput, policy: Policy, name: str,
            evidence: tuple[str, ...]) -> None:
    """Add a cue found beyond the post's own text (a volume spike) and decide again.

    The cue's reason goes after the post's own evidence and the new severity
    and policy reasons replace the old ones; call it before routing adds its
    reason. The category stays: the cue says how grave, not what the post is.
    """
    result.cues[name] = tuple(evidence)
    result.severity, result.outcome, decided = judge(policy, result.facts(post))
    kept = result.reasons[:result.decided_from or len(result.reasons)]
    result.reasons = [*kept, cue_reason(name, result.cues[name])]
    result.decided_from = len(result.reasons)
    result.reasons.extend(decided)


def triage_one(post: PostInput, policy: Policy, topics: list[dict] | None = None,
               tier: str | classify.Classifier | None = None) -> TriageResult:
    """One post (tests, corrections); the desk itself always triages batches."""
    matcher = _Fixed(topics) if topics else None
    return triage_batch([post], policy, matcher, tier)[0]


@dataclass(slots=True)
class _Fixed:
    topics: list[dict]

    def match(self, texts: list[str]) -> list[list[dict]]:
        return [self.topics for _ in texts]
