"""X (formerly Twitter)."""

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="x", label="X", badge="X", order=10,
    # help.x.com, "Counting characters": 280 for accounts without a subscription,
    # which is what a reply must fit to be read in full everywhere.
    public_limit=280,
    private_messages=True,  # Direct Messages, no reply window
    # help.x.com, "How to hide replies": the author of a post may hide replies to it.
    can_hide=True,
    profile_pattern="https://x.com/{handle}",
    threading="a reply names the post it answers; a conversation id ties the thread",
)
