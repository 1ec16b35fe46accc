"""`socialdesk topics import|export|list`, and `socialdesk triage --topics`."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from conftest import post, write_jsonl
from socialdesk.audit.models import Event
from socialdesk.demo.setup import TOPICS, do_load_topics
from socialdesk.routing.models import RoutingRule
from socialdesk.triage.actions import do_install_policy
from socialdesk.triage.models import Topic
from socialdesk.triage.policy import DEFAULT_POLICY_PATH
from socialdesk.triage.queries import topic_specs
from socialdesk.triage.topics import parse_topics

TWO = """topics:
  - slug: billing
    name: Billing
    keywords: [refund, charged twice]
    examples: [I was charged twice for my subscription]
  - slug: delivery
    name: Delivery
    keywords: [parcel]
"""


def run(*args) -> str:
    out = io.StringIO()
    call_command("topics", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def two(tmp_path):
    path = tmp_path / "topics.yaml"
    path.write_text(TWO)
    return path


def test_import_creates_the_topics_and_records_who_did_it(db, two, agent):
    output = run("import", str(two), "--by", "alice")
    assert "2 topics; 2 created, 0 updated, 0 unchanged" in output
    billing = Topic.objects.get(slug="billing")
    assert (billing.name, billing.keywords, billing.examples, billing.is_active) == (
        "Billing", "refund\ncharged twice", "I was charged twice for my subscription", True)
    event = Event.objects.get(verb="topics.imported")
    assert event.actor == agent and event.data["created"] == ["billing", "delivery"]


def test_import_again_changes_only_what_differs_and_deletes_nothing(db, two, tmp_path):
    run("import", str(two))
    Topic.objects.create(slug="stores", name="Stores", keywords="shop")
    changed = tmp_path / "changed.yaml"
    changed.write_text(TWO.replace("keywords: [parcel]", "keywords: [parcel, courier]"))
    output = run("import", str(changed))
    assert "1 updated, 1 unchanged" in output
    assert Topic.objects.get(slug="delivery").keywords == "parcel\ncourier"
    assert Topic.objects.filter(slug="stores").exists()


def test_import_with_replace_deletes_the_topics_the_file_does_not_name(db, two):
    Topic.objects.create(slug="stores", name="Stores", keywords="shop")
    output = run("import", str(two), "--replace")
    assert "0 deleted" not in output and "Deleted: stores" in output
    assert sorted(Topic.objects.values_list("slug", flat=True)) == ["billing", "delivery"]


def test_it_rejects_an_invalid_file_naming_the_place_and_changes_nothing(db, tmp_path, two):
    run("import", str(two))
    bad = tmp_path / "bad.yaml"
    bad.write_text(TWO.replace("slug: delivery", "slug: Delivery Team"))
    with pytest.raises(CommandError) as error:
        run("import", str(bad), "--replace")
    assert str(error.value).startswith(f"{bad}: topics[1] (Delivery Team): slug 'Delivery Team'")
    assert str(error.value).endswith("nothing was changed")
    assert sorted(Topic.objects.values_list("slug", flat=True)) == ["billing", "delivery"]


@pytest.mark.parametrize("args, message", [
    (["import", "missing.yaml"], "missing.yaml: no such file"),
    (["import", "{two}", "--by", "nobody"], "--by: there is no user 'nobody'"),
])
def test_it_rejects_bad_arguments_clearly(db, two, args, message):
    with pytest.raises(CommandError, match=message):
        run(*[a.format(two=two) for a in args])


def test_export_and_import_round_trip(db, two, tmp_path):
    run("import", str(two))
    Topic.objects.filter(slug="delivery").update(is_active=False)
    before = topic_specs()
    exported = tmp_path / "exported.yaml"
    run("export", "-o", str(exported))
    Topic.objects.all().delete()
    run("import", str(exported))
    assert topic_specs() == before
    assert parse_topics(run("export")) == before


def test_list_shows_each_topic_and_marks_the_inactive(db, two):
    assert "No topics yet" in run("list")
    run("import", str(two))
    Topic.objects.filter(slug="delivery").update(is_active=False)
    lines = run("list").splitlines()
    assert lines[1].split() == ["billing", "2", "1", "Billing"]
    assert lines[2].split() == ["-", "delivery", "1", "0", "Delivery"]
    assert "inactive" in lines[-1]


def test_the_demo_loads_the_brands_topics(db):
    done = do_load_topics()
    assert sorted(done["created"]) == sorted(s.slug for s in parse_topics(TOPICS.read_text()))
    assert {"billing", "delivery", "app", "kettles", "toasters", "coffee-machines"} <= set(
        Topic.objects.values_list("slug", flat=True))
    assert do_load_topics()["created"] == []


def test_offline_triage_finds_topics_from_a_file_and_says_so(tmp_path, two):
    posts = write_jsonl(tmp_path / "in.jsonl", [post("1", "still waiting for my refund"),
                                                post("2", "lovely kettle")])
    out = io.StringIO()
    call_command("triage_file", str(posts), topics=str(two), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["topics"] == [{"topic": "billing", "by": "keyword 'refund'"}]
    assert lines[1]["topics"] == []

    plain = io.StringIO()
    call_command("triage_file", str(posts), stdout=plain)
    assert "topics" not in json.loads(plain.getvalue().splitlines()[0])


def test_offline_triage_rejects_an_invalid_topics_file(tmp_path):
    posts = write_jsonl(tmp_path / "in.jsonl", [post("1", "hello")])
    bad = tmp_path / "bad.yaml"
    bad.write_text("topics: [{slug: billing, name: Billing}]")
    with pytest.raises(CommandError, match="needs at least one keyword or example"):
        call_command("triage_file", str(posts), topics=str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="nope.yaml: No such file"):
        call_command("triage_file", str(posts), topics="nope.yaml", stdout=io.StringIO())


def test_the_admin_checks_a_topic_as_the_import_does_and_tidies_its_lines(client, admin_user):
    client.force_login(admin_user)
    add = reverse("admin:triage_topic_add")
    refused = client.post(add, {"slug": "billing", "name": "Billing", "keywords": "\n \n",
                                "examples": "", "is_active": "on"})
    assert refused.status_code == 200
    assert "needs at least one keyword or example" in refused.content.decode()
    assert not Topic.objects.exists()

    saved = client.post(add, {"slug": "billing", "name": " Billing ", "is_active": "on",
                              "keywords": "refund\n\n  charged   twice\nRefund",
                              "examples": "where is my refund"})
    assert saved.status_code == 302
    topic = Topic.objects.get(slug="billing")
    assert (topic.name, topic.keywords) == ("Billing", "refund\ncharged twice")


def named_by_policy(slug: str) -> None:
    rule = (f"  - name: {slug}-first\n    when: {{topics: [{slug}]}}\n    decision: respond\n"
            f"    reply_mode: private\n    owner: care\n    severity:\n"
            f"      1: {{priority: P1, first_response: 1h}}\n\n")
    do_install_policy(DEFAULT_POLICY_PATH.read_text().replace("rules:\n", "rules:\n" + rule, 1))


def test_replace_refuses_to_delete_a_topic_the_policy_names_and_changes_nothing(db, two, tmp_path):
    Topic.objects.create(slug="stores", name="Stores", keywords="shop")
    named_by_policy("stores")
    changed = tmp_path / "changed.yaml"
    changed.write_text(TWO.replace("keywords: [parcel]", "keywords: [parcel, courier]"))
    with pytest.raises(CommandError, match=r"cannot delete topic 'stores': it is named by "
                                           r"policy rule 'stores-first' \(v\d+\).*inactive; "
                                           r"nothing was changed"):
        run("import", str(changed), "--replace")
    assert sorted(Topic.objects.values_list("slug", flat=True)) == ["stores"]
    assert not Event.objects.filter(verb="topics.imported").exists()


def test_replace_refuses_to_delete_a_topic_a_routing_rule_names_even_a_disabled_one(db, two):
    Topic.objects.create(slug="stores", name="Stores", keywords="shop")
    RoutingRule.objects.create(position=1, name="shops", enabled=False, team="care",
                               when={"any": [{"channel": ["x"]}, {"not": {"topics": ["stores"]}}]})
    with pytest.raises(CommandError, match="named by routing rule 'shops', disabled"):
        run("import", str(two), "--replace")
    assert Topic.objects.filter(slug="stores").exists()


def test_the_admin_keeps_a_topic_in_use_from_deletion_and_renaming(client, admin_user):
    stores = Topic.objects.create(slug="stores", name="Stores", keywords="shop")
    spare = Topic.objects.create(slug="spare", name="Spare", keywords="spare")
    named_by_policy("stores")
    client.force_login(admin_user)

    assert client.post(reverse("admin:triage_topic_delete", args=[stores.pk]),
                       {"post": "yes"}).status_code == 403
    renamed = client.post(reverse("admin:triage_topic_change", args=[stores.pk]),
                          {"slug": "shops", "name": "Stores", "keywords": "shop",
                           "examples": "", "is_active": "on"})
    assert renamed.status_code == 200
    assert "cannot rename topic &#x27;stores&#x27;" in renamed.content.decode()
    assert Topic.objects.get(pk=stores.pk).slug == "stores"

    # Topics nobody names go as before.
    assert client.post(reverse("admin:triage_topic_delete", args=[spare.pk]),
                       {"post": "yes"}).status_code == 302
    assert not Topic.objects.filter(pk=spare.pk).exists()
