"""Facebook Pages: comments on the Page's posts and Messenger."""

from datetime import timedelta

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="facebook", label="Facebook", badge="FB", order=20,
    public_limit=8000,  # a comment's length limit
    private_messages=True,
    # Messenger Platform policy overview, "standard messaging": a Page may answer a
    # person within 24 hours of their last message; the HUMAN_AGENT tag lets a person
    # (not an automation) answer for up to 7 days
    # (developers.facebook.com/docs/messenger-platform/policy/policy-overview).
    reply_window=timedelta(hours=24),
    window_extension=timedelta(days=7), window_extension_name="human agent tag",
    can_hide=True,  # a Page may hide comments on its posts (Graph API, is_hidden)
    profile_pattern="https://www.facebook.com/{handle}",
    threading="comments on a post, and replies one level below a comment",
)
