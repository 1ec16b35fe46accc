"""Admins add policy versions in the Django admin the way `socialdesk policy install` does:
checked, stored as a new version, made active, recorded; stored versions stay as written."""

import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from socialdesk.audit.models import Event
from socialdesk.triage.actions import active_policy, do_install_policy
from socialdesk.triage.models import ResponsePolicy
from socialdesk.triage.policy import DEFAULT_POLICY_PATH

ADD = "admin:triage_responsepolicy_add"
CHANGELIST = "admin:triage_responsepolicy_changelist"


def praise_monitored() -> str:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["name"] = "praise is monitored"
    positive = next(r for r in data["rules"] if r["name"] == "positive")
    positive.update(decision="monitor", reply_mode="none", severity={1: {"priority": "P4"}})
    return yaml.safe_dump(data, sort_keys=False)


def test_the_add_form_starts_from_the_active_policy(client, admin_user):
    active_policy()
    client.force_login(admin_user)
    response = client.get(reverse(ADD))
    assert response.status_code == 200
    assert "name: Default response matrix" in response.content.decode()


def test_an_admin_adds_a_version_by_pasting_yaml_and_it_becomes_active(client, admin_user):
    before = active_policy().version
    client.force_login(admin_user)
    response = client.post(reverse(ADD), {"source": praise_monitored()})
    assert response.status_code == 302
    row = ResponsePolicy.objects.get(is_active=True)
    assert (row.version, row.name, row.created_by) == (before + 1, "praise is monitored",
                                                        admin_user)
    assert ResponsePolicy.objects.count() == 2
    event = Event.objects.get(verb="policy.installed", data__version=before + 1)
    assert event.actor == admin_user


def test_an_admin_adds_a_version_by_uploading_a_yaml_file(client, admin_user):
    before = active_policy().version
    client.force_login(admin_user)
    upload = SimpleUploadedFile("candidate.yaml", praise_monitored().encode())
    response = client.post(reverse(ADD), {"source": "", "upload": upload})
    assert response.status_code == 302
    assert active_policy().version == before + 1
    assert active_policy().name == "praise is monitored"


def test_an_invalid_policy_shows_the_error_and_leaves_the_active_version(client, admin_user):
    before = active_policy().version
    client.force_login(admin_user)
    bad = praise_monitored().replace("decision: monitor", "decision: ignore", 1)
    response = client.post(reverse(ADD), {"source": bad})
    assert response.status_code == 200
    assert "decision must be one of respond, escalate, monitor, let_stand, hide, not " \
           "&#x27;ignore&#x27;" in response.content.decode()
    assert active_policy().version == before
    assert ResponsePolicy.objects.count() == 1
    assert not Event.objects.filter(verb="policy.installed", data__version=before + 1).exists()


def test_an_upload_must_be_a_yaml_file_of_utf8_text(client, admin_user):
    active_policy()
    client.force_login(admin_user)
    for upload, message in [
        (SimpleUploadedFile("policy.txt", praise_monitored().encode()), "Upload a .yaml or .yml"),
        (SimpleUploadedFile("policy.yaml", b"name: \xff\xfe"), "not UTF-8 text"),
    ]:
        response = client.post(reverse(ADD), {"source": "", "upload": upload})
        assert response.status_code == 200 and message in response.content.decode()
    response = client.post(reverse(ADD), {"source": "  "})
    assert "Paste a policy or upload a .yaml file." in response.content.decode()
    assert ResponsePolicy.objects.count() == 1


def test_an_admin_activates_an_older_version_from_the_list(client, admin_user):
    first = active_policy().version
    do_install_policy(praise_monitored())
    client.force_login(admin_user)
    old = ResponsePolicy.objects.get(version=first)
    response = client.post(reverse(CHANGELIST), {"action": "activate_version", "index": 0,
                                                 "_selected_action": [old.pk]})
    assert response.status_code == 302
    assert active_policy().version == first
    event = Event.objects.get(verb="policy.activated")
    assert (event.actor, event.data["version"]) == (admin_user, first)


def test_activating_needs_exactly_one_version(client, admin_user):
    active_policy()
    do_install_policy(praise_monitored())
    active = active_policy().version
    client.force_login(admin_user)
    pks = list(ResponsePolicy.objects.values_list("pk", flat=True))
    assert len(pks) == 2
    response = client.post(reverse(CHANGELIST), {"action": "activate_version", "index": 0,
                                                 "_selected_action": pks}, follow=True)
    assert "Select exactly one version to activate." in response.content.decode()
    assert active_policy().version == active


def test_each_version_can_be_downloaded_as_yaml(client, admin_user, agent):
    version = active_policy().version
    row = ResponsePolicy.objects.get(version=version)
    url = reverse("admin:triage_responsepolicy_download", args=[row.pk])
    client.force_login(admin_user)
    assert url in client.get(reverse(CHANGELIST)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="policy-v{version}.yaml"'
    assert response.content.decode() == DEFAULT_POLICY_PATH.read_text()
    client.force_login(agent)
    assert client.get(url).status_code == 302  # to the admin login: agents have no admin


def test_a_stored_version_cannot_be_edited_or_deleted(client, admin_user):
    row = ResponsePolicy.objects.get(version=active_policy().version)
    client.force_login(admin_user)
    change = reverse("admin:triage_responsepolicy_change", args=[row.pk])
    page = client.get(change)
    assert page.status_code == 200 and b"<textarea" not in page.content
    response = client.post(change, {"source": praise_monitored()})
    assert response.status_code == 403
    delete = reverse("admin:triage_responsepolicy_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.source == DEFAULT_POLICY_PATH.read_text()
