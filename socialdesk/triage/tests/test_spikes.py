"""Volume spikes: a burst of posts on one subject, far above its usual rate, makes them S3."""

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import post
from socialdesk.cases.models import Case
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.triage.actions import active_policy
from socialdesk.triage.engine import PostInput, triage_one
from socialdesk.triage.feedback import do_correct_triage
from socialdesk.triage.models import Topic, Triage, VolumeCount
from socialdesk.triage.policy import (
    DEFAULT_POLICY_PATH,
    VolumeSpike,
    default_policy,
    parse_policy,
)
from socialdesk.triage.simulate import simulate_records, simulate_stored
from socialdesk.triage.spikes import (
    ALL,
    RETENTION,
    Spike,
    bucket_of,
    counted,
    do_add_counts,
    find_spikes,
    mark,
    mark_spikes,
    tally,
    watches,
)

NOON = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
# The quarter hour 12:45: its window is the hour 12:00 to 13:00.
LAST = NOON + timedelta(minutes=45)
RULE = VolumeSpike(window_minutes=60, baseline_minutes=7 * 24 * 60, factor=4, min_posts=20)
DELIVERY = "topic:delivery"


def without_spikes() -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["volume_spike"] = "off"
    return yaml.safe_dump(data, sort_keys=False)


def counts_with(usual_per_hour: int, burst: int, key: str = DELIVERY,
                history_hours: int = 7 * 24) -> Counter:
    """`usual_per_hour` posts on `key` every hour of the history before noon (the desk
    counted one other post an hour then too), and `burst` posts in the quarter hour 12:45."""
    counts = Counter()
    for hour in range(1, history_hours + 1):
        bucket = NOON - timedelta(hours=hour)
        counts[ALL, bucket] += usual_per_hour + 1
        if usual_per_hour:
            counts[key, bucket] += usual_per_hour
    counts[key, LAST] += burst
    counts[ALL, LAST] += burst
    return counts


def spikes_at(counts, key=DELIVERY, rule=RULE):
    return find_spikes(counts, [(key, LAST)], rule)


# --------------------------------------------------------------------------
# The maths
# --------------------------------------------------------------------------

def test_a_burst_below_min_posts_is_no_spike_however_quiet_the_subject_was():
    assert spikes_at(counts_with(0, 19)) == {}


def test_a_burst_of_exactly_min_posts_over_an_empty_baseline_is_a_spike():
    found = spikes_at(counts_with(0, 20))
    spike = found[DELIVERY, LAST]
    assert (spike.posts, spike.usual_posts) == (20, 0)
    assert spike.evidence == "topic delivery: 20 posts in the hour to 13:00 UTC, none in the " \
                             "7 days before"


def test_a_busy_subject_below_factor_times_its_usual_rate_is_no_spike():
    # 6 an hour as usual: a spike needs 4 × 6 = 24 in the hour.
    assert spikes_at(counts_with(6, 23)) == {}


def test_exactly_factor_times_the_usual_rate_is_a_spike():
    spike = spikes_at(counts_with(6, 24))[DELIVERY, LAST]
    assert spike.evidence == "topic delivery: 24 posts in the hour to 13:00 UTC, usually " \
                             "6.0 an hour"


def test_the_window_is_the_one_that_ends_with_the_posts_quarter_hour():
    counts = counts_with(0, 10)
    counts[DELIVERY, NOON] += 10      # the same hour: counts
    counts[ALL, NOON] += 10
    assert spikes_at(counts)
    counts = counts_with(0, 10)
    counts[DELIVERY, NOON - timedelta(minutes=15)] += 10   # the hour before: baseline
    counts[ALL, NOON - timedelta(minutes=15)] += 10
    assert spikes_at(counts) == {}


def test_without_a_days_history_there_is_no_usual_rate_and_no_spike():
    assert spikes_at(counts_with(0, 40, history_hours=0)) == {}
    assert spikes_at(counts_with(0, 40, history_hours=23)) == {}
    spike = spikes_at(counts_with(0, 40, history_hours=24))[DELIVERY, LAST]
    # The usual rate is taken over what was counted: a day, not the week.
    assert spike.usual_minutes == 24 * 60
    assert spike.evidence.endswith("none in the day before")


def test_the_usual_rate_is_over_the_counted_part_of_the_baseline():
    # 2 an hour for two days: a spike needs 8 an hour, whatever the other five days.
    rule = VolumeSpike(60, 7 * 24 * 60, 4, 1)
    assert spikes_at(counts_with(2, 7, history_hours=48), rule=rule) == {}
    spike = spikes_at(counts_with(2, 8, history_hours=48), rule=rule)[DELIVERY, LAST]
    assert spike.evidence.endswith("usually 2.0 an hour")


def test_the_evidence_says_what_spiked_when_and_against_what():
    at = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
    assert Spike(DELIVERY, at, 60, 48, 538, 7 * 24 * 60).evidence == \
        "topic delivery: 48 posts in the hour to 14:15 UTC, usually 3.2 an hour"
    assert Spike("cue:outage", at, 30, 21, 2, 7 * 24 * 60).evidence == \
        "cue outage: 21 posts in the 30 minutes to 14:15 UTC, usually 2 in the 7 days before"
    assert Spike("cue:outage", at, 120, 1, 0, 51 * 60 + 15).evidence == \
        "cue outage: 1 post in the 2 hours to 14:15 UTC, none in the 51 hours before"


def test_posts_fall_in_the_quarter_hour_of_their_own_time_in_utc():
    assert bucket_of(datetime(2026, 11, 16, 14, 29, 59, tzinfo=UTC)) == \
        datetime(2026, 11, 16, 14, 15, tzinfo=UTC)
    assert bucket_of(datetime(2026, 11, 16, 14, 30, tzinfo=UTC)) == \
        datetime(2026, 11, 16, 14, 30, tzinfo=UTC)
    assert bucket_of(datetime(2026, 11, 16, 15, 40, tzinfo=timezone(timedelta(hours=1)))) == \
        datetime(2026, 11, 16, 14, 30, tzinfo=UTC)
    assert bucket_of(datetime(2026, 11, 16, 14, 5)) == NOON.replace(hour=14)


def triaged(text, topics=(), at=NOON):
    item = PostInput("x", text[:20], text)
    result = triage_one(item, default_policy(),
                        [{"topic": t, "by": "test"} for t in topics] or None)
    return item, result, at


def test_a_post_counts_once_under_each_topic_and_cue_and_under_all():
    entries = [triaged("the app is down again, cannot log in", ["app"]),
               triaged("still waiting for my parcel", ["delivery"], NOON + timedelta(minutes=20))]
    assert tally(entries) == Counter({
        (ALL, NOON): 1, ("topic:app", NOON): 1, ("cue:outage", NOON): 1,
        (ALL, NOON + timedelta(minutes=15)): 1, (DELIVERY, NOON + timedelta(minutes=15)): 1})


def test_spam_is_not_counted():
    spam = triaged("win a free parcel now, click bit-prize.example/kx92 crypto giveaway",
                   ["delivery"])
    assert spam[1].category == "spam"
    assert counted([spam]) == []


def test_a_policy_watches_only_the_subjects_it_names():
    only_outage = VolumeSpike(topics=False, cues=frozenset({"outage"}))
    assert watches(only_outage, "cue:outage")
    assert not watches(only_outage, "cue:safety")
    assert not watches(only_outage, DELIVERY)
    assert watches(RULE, DELIVERY) and watches(RULE, "cue:safety")


def test_marking_makes_the_post_s3_with_the_evidence_and_says_why():
    entries = [triaged("still waiting for my parcel", ["delivery"], LAST) for _ in range(20)]
    before = entries[0][1].reasons[:]
    counts = counts_with(0, 0) + tally(entries)
    assert mark(entries, default_policy(), counts) == 20
    result = entries[0][1]
    assert result.severity == 3
    assert (result.outcome.decision, result.outcome.priority) == ("escalate", "P0")
    evidence = "topic delivery: 20 posts in the hour to 13:00 UTC, none in the 7 days before"
    assert result.cues["volume_spike"] == (evidence,)
    # The post's own evidence stays; the spike's follows it, then the new decision.
    assert result.reasons[:3] == before[:3]
    assert result.reasons[3:] == [
        f"cue volume_spike: {evidence!r}", "severity S3: volume_spike cue",
        "policy rule unhappy-customer (category complaint): escalate, P0"]


def test_nothing_is_marked_with_volume_spikes_off():
    policy = parse_policy(without_spikes())
    assert policy.volume_spike is None
    entries = [triaged("still waiting for my parcel", ["delivery"], LAST) for _ in range(20)]
    assert mark(entries, policy, counts_with(0, 0) + tally(entries)) == 0


# --------------------------------------------------------------------------
# Counting in the database
# --------------------------------------------------------------------------

def stored():
    return {(row.key, row.bucket_start): row.count for row in VolumeCount.objects.all()}


def test_counts_add_up_across_batches_with_one_statement_each(db):
    do_add_counts(Counter({(DELIVERY, NOON): 3, (ALL, NOON): 5}))
    with CaptureQueriesContext(connection) as queries:
        do_add_counts(Counter({(DELIVERY, NOON): 4, (ALL, NOON): 4,
                               (ALL, NOON + timedelta(minutes=15)): 1}))
    assert stored() == {(DELIVERY, NOON): 7, (ALL, NOON): 9,
                        (ALL, NOON + timedelta(minutes=15)): 1}
    upserts = [q["sql"] for q in queries.captured_queries if "ON CONFLICT" in q["sql"]]
    assert len(upserts) == 1


def test_old_counts_are_pruned_when_a_quarter_hour_begins(db):
    old = NOON - RETENTION - timedelta(minutes=15)
    do_add_counts(Counter({(DELIVERY, old): 2, (DELIVERY, NOON - RETENTION): 1}))
    # Adding to a quarter hour already counted prunes nothing: no extra statement.
    with CaptureQueriesContext(connection) as queries:
        do_add_counts(Counter({(DELIVERY, NOON - RETENTION): 1}))
    assert len(queries) == 1 and len(stored()) == 2
    do_add_counts(Counter({(DELIVERY, NOON): 1}))
    assert stored() == {(DELIVERY, NOON - RETENTION): 2, (DELIVERY, NOON): 1}


def test_a_post_dated_far_ahead_does_not_prune_the_history(db):
    do_add_counts(Counter({(DELIVERY, NOON): 2}))
    do_add_counts(Counter({(DELIVERY, datetime(2099, 1, 1, tzinfo=UTC)): 1}))
    assert (DELIVERY, NOON) in stored()


def test_marking_a_batch_reads_the_counts_in_one_query(db):
    entries = [triaged("still waiting for my parcel", ["delivery"], LAST) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        batch = mark_spikes(entries, default_policy())
    assert len(queries) == 1
    assert batch == Counter({(ALL, LAST): 3, (DELIVERY, LAST): 3})


def test_marking_reads_nothing_with_volume_spikes_off(db):
    policy = parse_policy(without_spikes())
    with CaptureQueriesContext(connection) as queries:
        assert mark_spikes([triaged("still waiting for my parcel", ["delivery"])], policy) == {}
    assert len(queries) == 0


# --------------------------------------------------------------------------
# The pipeline, end to end
# --------------------------------------------------------------------------

COMPLAINT = "still waiting for my parcel, ordered two weeks ago"


def at(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def burst(feed, teams):
    """Two days of a quiet delivery topic, then 25 complaints in one quarter hour, in two
    batches: 5 (below min_posts), then 20 (the window now holds 25)."""
    Topic.objects.create(slug="delivery", name="Delivery", keywords="parcel")
    start = NOON - timedelta(days=2)
    feed(*[post(f"b{i}", COMPLAINT if i % 2 else "thanks, the kettle is lovely",
                author=f"base{i}", at=at(start + timedelta(hours=4 * i))) for i in range(12)])
    feed(*[post(f"early{i}", COMPLAINT, author=f"early{i}", at=at(NOON + timedelta(minutes=i)))
           for i in range(5)])
    feed(*[post(f"late{i}", COMPLAINT, author=f"late{i}",
                at=at(NOON + timedelta(minutes=5, seconds=20 * i))) for i in range(20)])
    return {p.external_id: p for p in Post.objects.select_related("triage", "case")}


def test_posts_on_a_spiking_topic_become_s3_with_the_evidence(burst):
    late = burst["late0"].triage
    assert (late.severity, late.decision, late.priority) == (3, "escalate", "P0")
    spike = next(c for c in late.cues if c["cue"] == "volume_spike")
    assert len(spike["evidence"]) == 1
    assert spike["evidence"][0].startswith(
        "topic delivery: 25 posts in the hour to 12:15 UTC, usually 0.1 an hour")
    assert f"cue volume_spike: {spike['evidence'][0]!r}" in late.reasons
    assert "severity S3: volume_spike cue" in late.reasons
    assert "policy rule unhappy-customer (category complaint): escalate, P0" in late.reasons
    assert "severity S1" not in late.reasons
    assert all(burst[f"late{i}"].triage.severity == 3 for i in range(20))
    case = burst["late0"].case
    assert (case.decision, case.priority) == ("escalate", "P0")


def test_posts_before_the_threshold_keep_their_decision(burst):
    for i in range(5):
        early = burst[f"early{i}"].triage
        assert (early.severity, early.decision, early.priority) == (1, "respond", "P2")
        assert not any(c["cue"] == "volume_spike" for c in early.cues)
        assert "severity S1" in early.reasons
    assert Case.objects.get(posts__external_id="early0").priority == "P2"


def test_the_quiet_baseline_is_not_a_spike(burst):
    assert {burst[f"b{i}"].triage.severity for i in range(12)} == {1}


def test_the_pipeline_keeps_the_counts_of_every_batch(burst):
    counts = VolumeCount.objects.filter(key=DELIVERY)
    assert sum(counts.values_list("count", flat=True)) == 6 + 5 + 20
    assert counts.get(bucket_start=NOON).count == 25


def test_a_correction_decides_again_with_the_spike_still_there(burst, agent):
    do_correct_triage(burst["late3"], "category", "question", agent)
    triage = Triage.objects.get(post=burst["late3"])
    # A question at S3 takes the question rule's S2 outcome.
    assert (triage.severity, triage.decision, triage.priority) == (3, "respond", "P2")
    assert any(r.startswith(f"decided again under policy v{active_policy().version}: "
                            "severity S3: volume_spike cue") for r in triage.reasons)


def test_a_replay_of_stored_posts_sees_the_recorded_spike(burst):
    same = simulate_stored(active_policy(), parse_policy(DEFAULT_POLICY_PATH.read_text()))
    assert same["changed"] == 0
    # Turned off, the policy would not have given the cue.
    report = simulate_stored(active_policy(), parse_policy(without_spikes()))
    assert report["changed"] == 20
    assert {"from": "escalate", "to": "respond", "posts": 20} in report["changes"]["decision"]


def test_a_replay_of_a_file_counts_spikes_within_the_file(db):
    outage = "the app is down again, cannot log in"
    records = [check_record(post(f"h{i}", "thanks, the kettle is lovely", author=f"h{i}",
                                 at=at(NOON - timedelta(hours=2 * i + 1))), 40_000)
               for i in range(20)]
    records += [check_record(post(f"o{i}", outage, author=f"o{i}",
                                  at=at(NOON + timedelta(seconds=30 * i))), 40_000)
                for i in range(20)]
    report = simulate_records(records, default_policy(), parse_policy(without_spikes()))
    assert report["posts"] == 40
    assert report["changed"] == 20
    assert {"from": "escalate", "to": "respond", "posts": 20} in report["changes"]["decision"]
