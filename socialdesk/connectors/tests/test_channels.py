"""connectors.channels: one module per channel, the one place channel facts live."""

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.connectors import channels
from socialdesk.connectors.channels import CHANNELS, NAMES, NO_SHORT_LIMIT, channel

ROOT = Path(__file__).resolve().parents[3]


def test_every_channel_the_desk_has_is_defined_once_in_display_order():
    assert NAMES == ("x", "facebook", "instagram", "reddit", "mastodon", "bluesky", "youtube",
                     "email")
    assert [c.name for c in CHANNELS.values()] == list(NAMES)
    assert channels.choices()[0] == ("x", "X")
    for c in CHANNELS.values():
        assert c.label and c.badge and c.threading


def test_reply_limits_follow_visibility():
    assert channel("x").reply_limit("public") == 280
    assert channel("x").reply_limit("private") == NO_SHORT_LIMIT
    email = channel("email")
    assert not email.public_replies and email.reply_limit("public") == NO_SHORT_LIMIT


def test_reply_windows_are_metas_and_only_where_they_apply():
    for name in ("facebook", "instagram"):
        assert channel(name).reply_window == timedelta(hours=24)
        assert channel(name).window_extension == timedelta(days=7)
    assert [c.name for c in CHANNELS.values() if c.reply_window] == ["facebook", "instagram"]
    assert not channel("youtube").private_messages


@pytest.mark.parametrize(("name", "handle", "url"), [
    ("x", "ana_lee", "https://x.com/ana_lee"),
    ("instagram", "ana.lee", "https://www.instagram.com/ana.lee/"),
    ("mastodon", "ana@mastodon.social", "https://mastodon.social/@ana"),
    ("mastodon", "ana", ""),  # no server: no page to point at
    ("mastodon", "ana@localhost", ""),
    ("bluesky", "ana.bsky.social", "https://bsky.app/profile/ana.bsky.social"),
    ("x", "a/../b?c", "https://x.com/a%2F..%2Fb%3Fc"),  # a handle stays in its path
    ("email", "ana@example.com", ""),
    ("x", "", ""),
])
def test_profile_urls(name, handle, url):
    assert channel(name).profile_url(handle) == url


def test_a_channel_no_module_defines_gets_cautious_facts():
    old = channel("myspace")
    assert (old.label, old.private_messages, old.can_hide, old.can_delete_own) == \
        ("myspace", False, False, False)


def test_adding_a_channel_is_adding_a_module(tmp_path):
    # A copy of the package with one more module: the new channel is known to
    # every reader of the registry, record validation included.
    package = tmp_path / "socialdesk" / "connectors" / "channels"
    package.mkdir(parents=True)
    for source in (ROOT / "socialdesk" / "connectors" / "channels").glob("*.py"):
        (package / source.name).write_text(source.read_text())
    (package / "threads.py").write_text(textwrap.dedent('''
        from socialdesk.connectors.channels import Channel
        CHANNEL = Channel(name="threads", label="Threads", badge="TH", public_limit=500,
                          private_messages=False, threading="replies under a post", order=55)
    '''))
    for init in (tmp_path / "socialdesk" / "__init__.py",
                 tmp_path / "socialdesk" / "connectors" / "__init__.py"):
        init.write_text("")
    run = subprocess.run(
        [sys.executable, "-c", "from socialdesk.connectors.channels import NAMES; print(NAMES)"],
        cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "'mastodon', 'threads', 'bluesky'" in run.stdout


def test_the_documented_table_says_what_the_registry_says():
    table = (ROOT / "docs" / "CONNECTORS.md").read_text()
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if cells and "(`" in cells[0]:
            rows[cells[0]] = cells
    assert set(rows) == {f"{c.label} (`{c.name}`)" for c in CHANNELS.values()}
    for c in CHANNELS.values():
        _, limit, private, window, hide, _ = rows[f"{c.label} (`{c.name}`)"]
        assert f"{c.public_limit:,}" in limit if c.public_limit else "no public" in limit
        assert private.startswith("yes") == c.private_messages
        assert ("24 hours" in window) == (c.reply_window == timedelta(hours=24))
        assert hide.startswith("yes") == c.can_hide


def test_a_private_reply_keeps_to_the_platforms_own_limit_where_it_has_one():
    assert channels.channel("mastodon").reply_limit("private") == 500
    assert channels.channel("bluesky").reply_limit("private") == 1000
    assert channels.channel("email").reply_limit("private") == channels.NO_SHORT_LIMIT
