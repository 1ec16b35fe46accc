"""Instagram professional accounts: comments and direct messages."""

from datetime import timedelta

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="instagram", label="Instagram", badge="IG", order=30,
    public_limit=2200,  # a comment's length limit
    private_messages=True,
    # The Instagram messaging API follows Meta's messaging policy: 24 hours after
    # the person's last message, 7 days with the human agent tag.
    reply_window=timedelta(hours=24),
    window_extension=timedelta(days=7), window_extension_name="human agent tag",
    can_hide=True,  # comments on the account's media (Graph API, hide)
    profile_pattern="https://www.instagram.com/{handle}/",
    threading="comments on a post, and replies one level below a comment",
)
