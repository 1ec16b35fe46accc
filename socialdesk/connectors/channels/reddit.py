"""Reddit: posts and comments that mention the brand, and private messages."""

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="reddit", label="Reddit", badge="RD", order=40,
    public_limit=10_000,  # a comment's length limit
    private_messages=True,
    # Removing someone's comment takes moderator rights in that subreddit,
    # which a brand has only in its own.
    can_hide=False,
    profile_pattern="https://www.reddit.com/user/{handle}",
    threading="a tree: each comment names its parent (a post t3_… or a comment t1_…)",
)
