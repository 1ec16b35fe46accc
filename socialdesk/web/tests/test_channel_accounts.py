"""The channel accounts pages: an admin connects, checks, pauses, resumes and removes
the brand's accounts in the desk."""

import pytest
from django.urls import reverse

from conftest import post, write_jsonl
from socialdesk.audit.models import Event
from socialdesk.connectors import registry
from socialdesk.connectors.base import ConnectorError, Fetched, Setting
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post

TOKEN = "s3cret-token-value"


class Tokened:
    """A connector that needs a server and a secret token, and says who it is."""

    name = "tokened"
    label = "A tokened service"
    channels = ("mastodon",)
    settings = (Setting("server", "Server"), Setting("token", "Access token", secret=True),
                Setting("tags", "Hashtags", required=False, kind="list"))

    def check(self, account):
        if account.secrets().get("token") != TOKEN:
            raise ConnectorError("The access token is invalid", ConnectorError.REAUTHORISE)
        return f"signed in as @{account.handle} on {account.config['server']}"

    def fetch(self, account, checkpoint, limit):
        return Fetched([], checkpoint)

    def deliver(self, account, outgoing):
        raise NotImplementedError


@pytest.fixture
def tokened(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "tokened", Tokened)


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def connect(client, kind, **fields):
    return client.post(reverse("web:channel_account_connect", args=[kind]), fields)


def test_an_admin_connects_a_folder_and_its_posts_arrive_on_fetch(admin, tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [post("m1", "My kettle leaks"), post("m2", "Thanks!")])
    page = admin.get(reverse("web:channel_accounts"))
    assert b"A folder of exported files" in page.content

    response = connect(admin, "folder", channel="x", handle="kettleco_help", name="Care",
                       poll_seconds="120", s_directory=str(tmp_path))
    account = ChannelAccount.objects.get()
    assert response.url == reverse("web:channel_account", args=[account.pk])
    assert (account.listener, account.delivery, account.poll_seconds) == ("folder", "file", 120)
    assert account.config == {"directory": str(tmp_path)}
    shown = admin.get(response.url)
    assert f"reads {tmp_path}: 1 .jsonl file".encode() in shown.content
    assert Event.objects.filter(verb="account.connected", data__handle="kettleco_help").exists()

    fetched = admin.post(reverse("web:channel_account_action", args=[account.pk]),
                         {"action": "fetch"}, follow=True)
    assert b"2 fetched, 2 new" in fetched.content
    assert Post.objects.filter(account="kettleco_help").count() == 2


def test_a_connection_that_does_not_work_is_not_saved_unless_the_admin_says_so(admin,
                                                                               tmp_path):
    missing = tmp_path / "nowhere"
    response = connect(admin, "folder", channel="x", handle="brand", poll_seconds="60",
                       s_directory=str(missing))
    assert response.status_code == 422
    assert b"the connection does not work" in response.content and b"not a directory" in \
        response.content
    assert not ChannelAccount.objects.exists()

    connect(admin, "folder", channel="x", handle="brand", poll_seconds="60",
            s_directory=str(missing), unchecked="on")
    assert ChannelAccount.objects.get().config == {"directory": str(missing)}


def test_bad_settings_are_refused_with_what_is_wrong(admin, tmp_path):
    cases = [({"poll_seconds": "1"}, b"greater than or equal to 10"),
             ({"poll_seconds": "soon"}, b"Enter a whole number"),
             ({"s_directory": ""}, b"This field is required"),
             ({"channel": "myspace"}, b"Select a valid choice"),
             ({"handle": "h" * 300}, b"at most 255 characters")]
    for change, said in cases:
        fields = {"channel": "x", "handle": "brand", "poll_seconds": "60",
                  "s_directory": str(tmp_path), **change}
        response = connect(admin, "folder", **fields)
        assert response.status_code == 422 and said in response.content, change
    assert not ChannelAccount.objects.exists()
    assert admin.get(reverse("web:channel_account_connect", args=["nosuch"])).status_code == 404

    connect(admin, "folder", channel="x", handle="brand", poll_seconds="60",
            s_directory=str(tmp_path))
    again = connect(admin, "folder", channel="x", handle="brand", poll_seconds="60",
                    s_directory=str(tmp_path))
    assert again.status_code == 422 and b"is connected already" in again.content


def test_a_secret_is_stored_encrypted_never_shown_and_kept_when_left_empty(admin, tokened):
    wrong = connect(admin, "tokened", channel="mastodon", handle="care@example.social",
                    poll_seconds="60", s_server="example.social", s_token="nope")
    assert wrong.status_code == 422 and b"The access token is invalid" in wrong.content
    assert b"nope" not in wrong.content  # not even echoed back into the form

    connect(admin, "tokened", channel="mastodon", handle="care@example.social",
            poll_seconds="60", s_server="example.social", s_token=TOKEN, s_tags="kettles, tea")
    account = ChannelAccount.objects.get()
    assert TOKEN not in account.credentials and account.secrets() == {"token": TOKEN}
    assert account.config == {"server": "example.social", "tags": ["kettles", "tea"]}
    assert account.delivery == "tokened"
    page = admin.get(reverse("web:channel_account", args=[account.pk]))
    assert TOKEN.encode() not in page.content and b"never shown again" in page.content
    assert b'value="kettles, tea"' in page.content

    # Saved again with the token left empty: the stored one is kept, and checked.
    saved = admin.post(reverse("web:channel_account", args=[account.pk]),
                       {"name": "Care", "poll_seconds": "300", "s_server": "example.social",
                        "s_token": ""}, follow=True)
    assert b"signed in as @care@example.social" in saved.content
    account.refresh_from_db()
    assert (account.secrets(), account.poll_seconds, account.name) == ({"token": TOKEN}, 300,
                                                                       "Care")
    assert "tags" not in account.config  # emptied by the admin


def test_pause_resume_and_remove(admin, tmp_path):
    connect(admin, "folder", channel="x", handle="brand", poll_seconds="60",
            s_directory=str(tmp_path))
    account = ChannelAccount.objects.get()
    act = reverse("web:channel_account_action", args=[account.pk])

    admin.post(act, {"action": "pause"})
    account.refresh_from_db()
    assert not account.is_active and account.next_poll_at is None
    refused = admin.post(act, {"action": "fetch"}, follow=True)
    assert b"paused or hears nothing" in refused.content

    admin.post(act, {"action": "resume"})
    account.refresh_from_db()
    assert account.is_active and account.next_poll_at is not None

    unknown = admin.post(act, {"action": "explode"}, follow=True)
    assert b"Choose check, fetch, sign in, pause, resume or remove" in unknown.content
    admin.post(act, {"action": "remove"})
    assert not ChannelAccount.objects.exists()
    verbs = list(Event.objects.filter(verb__startswith="account.").values_list("verb", flat=True)
                 .order_by("id"))
    assert verbs == ["account.connected", "account.paused", "account.resumed",
                     "account.removed"]
    assert Event.objects.last().data["handle"] == "brand"  # what was removed stays on record


@pytest.mark.parametrize("kind", ["folder", "email", "mastodon", "bluesky"])
def test_every_connector_has_a_connect_form_asking_for_its_settings(admin, kind):
    from socialdesk.connectors.accounts import kinds

    found = kinds()[kind]
    page = admin.get(reverse("web:channel_account_connect", args=[kind])).content.decode()
    assert found.label in page
    for setting in found.settings:
        assert f'name="s_{setting.name}"' in page and setting.label in page
        if setting.secret:
            assert f'type="password" name="s_{setting.name}"' in page


def test_the_page_says_how_soon_new_posts_are_fetched(admin, tmp_path, settings):
    mailbox = ChannelAccount.objects.create(
        channel="email", handle="care@example.com", listener="email", delivery="email",
        poll_seconds=60, config={"imap_host": "mail.example.com"})
    folder = ChannelAccount.objects.create(channel="x", handle="kettleco", listener="folder",
                                           poll_seconds=120, config={"directory": str(tmp_path)})
    page = admin.get(reverse("web:channel_account", args=[mailbox.pk])).content.decode()
    assert "as soon as the server announces them, where it offers IMAP IDLE; and every 60 s" \
        in page
    page = admin.get(reverse("web:channel_account", args=[folder.pk])).content.decode()
    assert "every 120 s" in page and "IMAP IDLE" not in page

    settings.WATCH_ACCOUNTS = False  # watching turned off: polled only
    page = admin.get(reverse("web:channel_account", args=[mailbox.pk])).content.decode()
    assert "every 60 s" in page and "IMAP IDLE" not in page
