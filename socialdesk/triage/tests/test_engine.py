import pytest

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


@pytest.mark.parametrize("text", [
    "can someone message me about my gift card please",
    "I need some help setting up family sharing",
    "any way I can see which plan I'm on",
    "how come my order shows two delivery dates",
])
def test_a_request_for_help_is_answered_however_it_is_punctuated(text):
    result = triage(text)
    assert result.category == "question" and result.outcome.decision == "respond", \
        result.reasons


def test_asking_the_brand_to_fix_something_is_a_complaint_even_with_swearing():
    result = triage("fix my damn app already, it logs me out every hour")
    assert result.category == "complaint" and result.outcome.decision == "respond"
    assert any("'fix my' names a failure" in reason for reason in result.reasons)


def test_a_post_nothing_explains_is_answered_when_addressed_to_the_brand_s_account():
    text = "I would like to have a word with you"
    alone, addressed = triage(text), triage(text, account="kettleco_help")
    assert (alone.category, alone.outcome.decision) == ("other", "monitor")
    assert (addressed.category, addressed.outcome.decision) == ("other", "respond")
    assert any(r.startswith("policy rule addressed-to-us (to brand account)")
               for r in addressed.reasons)
    # An insult sent to the brand is still a troll's, monitored.
    assert triage("You are all incompetent clowns",
                  account="kettleco_help").outcome.decision == "monitor"


def test_safety_makes_severity_three_and_escalates():
    result = triage("the toaster caught fire in my kitchen")
    assert (result.severity, result.outcome.decision, result.outcome.priority) == \
        (3, "escalate", "P0")


def test_high_reach_raises_severity():
    assert triage("still waiting for my refund", followers=250_000).severity == 2


def test_praise_is_not_treated_as_a_complaint():
    result = triage("Thank you for sorting my refund so quickly, great service!")
    assert result.category == "praise" and result.sentiment == "positive"
