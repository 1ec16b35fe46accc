"""Reads about contacts: what the desk knows of a post's author when it judges the post."""

from bisect import bisect_left
from collections import defaultdict
from datetime import timedelta

from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import PostRow

REPEAT_WINDOW = timedelta(days=30)
# Three inbound posts in the month before this one: someone who keeps coming
# back, which usually means a problem still unsolved (or a regular advocate).
# A question and its follow-up, or one complaint with a reminder, stay below it.
REPEAT_POSTER_POSTS = 3


def author_context(rows: list[PostRow]) -> dict[int, dict]:
    """Per post id: followers, tier, account owner, how many inbound posts the same
    contact wrote in the REPEAT_WINDOW before it, and whether that makes a repeat poster.

    One query for the whole batch, whatever its size: the earlier posts of all the
    batch's contacts are read at once and counted here.
    """
    if not rows:
        return {}
    since = min(row.created_at for row in rows) - REPEAT_WINDOW
    times: dict[int, list] = defaultdict(list)
    # No time range in the query: with one, SQLite walks the created_at index over
    # every post of the window (all posts, on a busy desk) instead of reading just
    # these contacts' posts through their identities. A contact's history is short.
    for contact, at in (Post.objects
                        .filter(author__contact__in={row.contact_id for row in rows},
                                direction=Post.Direction.INBOUND)
                        .order_by().values_list("author__contact_id", "created_at")):
        if at >= since:
            times[contact].append(at)
    for earlier in times.values():
        earlier.sort()
    context = {}
    for row in rows:
        earlier = times.get(row.contact_id, ())
        recent = (bisect_left(earlier, row.created_at)
                  - bisect_left(earlier, row.created_at - REPEAT_WINDOW))
        context[row.id] = {
            "followers": row.followers if row.followers is not None else row.identity_followers,
            "tier": row.tier,
            "account_owner": row.account_owner or "",
            "recent_posts": recent,
            "repeat_poster": recent >= REPEAT_POSTER_POSTS,
        }
    return context
