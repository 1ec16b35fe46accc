"""Mastodon and the servers that speak its API."""

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="mastodon", label="Mastodon", badge="MA", order=50,
    # Mastodon's default; a server may allow more (its /api/v2/instance says).
    public_limit=500,
    private_messages=True,  # posts of "direct" visibility, seen by those mentioned
    private_limit=500,  # a direct message is a status like any other
    can_hide=False,  # one may mute or block a person, not hide their reply
    profile_pattern="https://{server}/@{user}",
    threading="a reply names the status it answers (in_reply_to_id)",
)
