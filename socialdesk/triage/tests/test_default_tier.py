"""The desk triages with the cascade unless told otherwise: the fast tier on every
post, the accurate tier on those the fast one is unsure of. The other tests pin
the fast tier (conftest.py); these run the default."""

import importlib.util

import pytest

from conftest import post
from socialdesk.triage import classify
from socialdesk.triage.models import Triage


@pytest.fixture
def unset(monkeypatch):
    monkeypatch.delenv("TRIAGE_TIER", raising=False)
    classify._accurate_runtime.cache_clear()
    yield
    classify._accurate_runtime.cache_clear()


def test_the_default_tier_is_the_cascade(unset):
    assert classify.default_tier() == "cascade"


def test_without_the_accurate_runtime_the_default_falls_back_to_the_fast_tier(
        unset, monkeypatch, caplog):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert classify.default_tier() == "fast"
    assert "needs onnxruntime" in caplog.text
    # Asked for by name, it is not replaced: loading it says what is missing.
    monkeypatch.setenv("TRIAGE_TIER", "cascade")
    assert classify.default_tier() == "cascade"


def test_the_pipeline_triages_with_the_cascade_by_default(unset, feed, teams):
    feed(post("1", "my kettle stopped working after a week, really disappointed"),
         post("2", "love the new kettle, thank you so much!"),
         post("3", "hmm, the kettle is kind of ok I guess, not sure yet"))
    versions = set(Triage.objects.values_list("model_version", flat=True))
    assert versions == {classify.load("cascade").version}  # "fast-…+accurate-…"
    assert set(Triage.objects.values_list("model_tier", flat=True)) <= {"fast", "accurate"}


def test_a_command_s_tier_is_its_helpers_tier_too(unset, monkeypatch):
    classify.use_tier("fast")
    assert classify.default_tier() == "fast"
    with pytest.raises(ValueError, match="unknown triage tier"):
        classify.use_tier("quick")
