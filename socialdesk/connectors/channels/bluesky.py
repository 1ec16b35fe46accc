"""Bluesky (the AT Protocol)."""

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="bluesky", label="Bluesky", badge="BS", order=60,
    public_limit=300,  # graphemes, app.bsky.feed.post's maxGraphemes
    private_messages=True,  # Bluesky chat (chat.bsky.convo)
    private_limit=1000,  # graphemes, chat.bsky.convo.defs#messageInput's maxGraphemes
    # The author of a thread may hide replies in it (app.bsky.feed.threadgate,
    # hiddenReplies).
    can_hide=True,
    profile_pattern="https://bsky.app/profile/{handle}",
    threading="a reply names the thread's root and its parent, each by URI and CID",
)
