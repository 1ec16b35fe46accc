"""Sentiment that respects the situation: harm or loss is never good news, leaving
the brand and sarcasm about a failure are complaints, a wish is a suggestion."""

import pytest

from socialdesk.triage.engine import PostInput, situated, triage_one
from socialdesk.triage.policy import default_policy


def triaged(text: str):
    return triage_one(PostInput("x", "1", text), default_policy())


@pytest.mark.parametrize("text", [
    "My toddler was scalded by boiling water from your kettle, the lid flew open",
    "Someone used my card on your site, $300 gone. Amazing security guys",
    "love how your app showed me another customer's address and order",
])
def test_a_post_with_harm_or_loss_is_never_shown_as_positive(text):
    result = triaged(text)
    assert result.sentiment == "negative"
    assert "harm or loss is never good news" in result.reasons[0]


@pytest.mark.parametrize("text", [
    "great, another delay, love it",
    "thanks for nothing, third time my parcel is late, love that for me",
    "oh great, the app is broken again, just what I needed",
])
def test_sarcasm_about_a_failure_is_a_negative_complaint(text):
    result = triaged(text)
    assert (result.sentiment, result.category) == ("negative", "complaint"), result.reasons
    assert result.outcome.decision in ("respond", "escalate")


@pytest.mark.parametrize("text", [
    "honestly thinking of going back to a normal kettle",
    "might just go back to my old bank at this rate",
])
def test_going_back_to_what_they_used_before_is_churn(text):
    result = triaged(text)
    assert "churn" in result.cues and result.sentiment == "negative"
    assert result.category == "complaint"


@pytest.mark.parametrize("text", [
    "it would be lovely if the app let you skip a month",
    "we'd love it if you brought back the mint flavour",
    "could you add a dark mode to the app?",
])
def test_a_wish_is_a_suggestion_not_praise(text):
    assert triaged(text).category == "suggestion"


@pytest.mark.parametrize("text", [
    "love the new kettle, thank you!",
    "great service, my refund arrived today, thanks",
    "lol the new ad is brilliant",
    "going back to the shop tomorrow for another one, love it",
])
def test_plain_praise_stays_praise(text):
    result = triaged(text)
    assert (result.sentiment, result.category) == ("positive", "praise"), result.reasons


def test_the_model_s_own_reading_is_kept_where_the_situation_says_nothing():
    assert situated("neutral", "where is my parcel?", {}) == ("neutral", "")
    assert situated("positive", "thanks so much", {}) == ("positive", "")
    assert situated("neutral", "the plug sparked", {"safety": ("sparked",)})[0] == "negative"
