import pytest

from socialdesk.triage.cues import personal_data, risk_cues
from socialdesk.triage.engine import PostInput, triage_one
from socialdesk.triage.policy import default_policy


def triage(text, **kwargs):
    return triage_one(PostInput("x", "1", text, **kwargs), default_policy())


@pytest.mark.parametrize("text, category", [
    ("My kettle stopped working after two weeks, really disappointed", "complaint"),
    ("Still waiting for my refund, this is unacceptable", "complaint"),
    ("How do I descale the coffee machine?", "question"),
    ("Love my new toaster, best breakfast ever!", "praise"),
    ("Would be great if the app let me pause my subscription", "suggestion"),
    ("Earn $500 a day with crypto, click here http://spam.example", "spam"),
    ("Brightkettle kettles contain lead and were banned in the EU", "misinformation"),
    ("You are all incompetent clowns", "abuse"),
    ("The handle snapped and the water scalded my son's arm", "crisis"),
])
def test_each_category_rule(text, category):
    result = triage(text)
    assert result.category == category
    assert any(r.startswith(f"category {category}") for r in result.reasons)


@pytest.mark.parametrize("text, cue, evidence", [
    ("the kettle burned my hand", "safety", "burned my hand"),
    ("the steam scalded my wrist", "safety", "scalded"),
    ("my lawyer will hear about this", "legal", "lawyer"),
    ("I am reporting you to trading standards", "regulator", "trading standards"),
    ("I'm a journalist writing a piece on this", "press", "journalist"),
    ("cancelling my subscription today", "churn", "cancelling my subscription"),
    ("the app is down again", "outage", "app is down"),
])
def test_each_risk_cue_carries_its_evidence(text, cue, evidence):
    found = {m.name: m.evidence for m in risk_cues(text)}
    assert evidence in found[cue]


@pytest.mark.parametrize("text, kind", [
    ("card 4111 1111 1111 1111 please refund", "card number"),
    ("email me at jo@example.com", "e-mail address"),
    ("call me on +44 7700 900123", "phone number"),
    ("my order BK-104233 is late", "order number"),
])
def test_personal_data_is_found(text, kind):
    assert kind in personal_data(text)


def test_a_card_like_number_that_fails_luhn_is_not_a_card():
    assert "card number" not in personal_data("tracking 4111 1111 1111 1112")


@pytest.mark.parametrize("text", ["the toaster burnt my toast again lol",
                                  "47 minutes on hold, then it cut me off"])
def test_everyday_words_are_not_injuries(text):
    assert "safety" not in {m.name for m in risk_cues(text)}


def test_safety_makes_severity_three_and_escalates():
    result = triage("the toaster caught fire in my kitchen")
    assert (result.severity, result.outcome.decision, result.outcome.priority) == \
        (3, "escalate", "P0")


def test_high_reach_raises_severity():
    assert triage("still waiting for my refund", followers=250_000).severity == 2


def test_praise_is_not_treated_as_a_complaint():
    result = triage("Thank you for sorting my refund so quickly, great service!")
    assert result.category == "praise" and result.sentiment == "positive"
