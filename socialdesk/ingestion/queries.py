from dataclasses import dataclass
from datetime import datetime

from socialdesk.ingestion.models import Post

_COLUMNS = ("id", "channel", "external_id", "direction", "visibility", "text", "created_at",
            "parent_id", "followers", "lang", "is_automated", "case_id", "processed_at",
            "author__contact_id", "author__contact__tier", "author__followers",
            "author__contact__account_owner__username", "account")


@dataclass(slots=True)
class PostRow:
    """What the pipeline needs of a stored post: a plain row, no model instance.

    Loading thousands of full models a second (three per post, with the author
    and contact) costs more than triaging them.
    """

    id: int
    channel: str
    external_id: str
    direction: str
    visibility: str
    text: str
    created_at: datetime
    parent_id: int | None
    followers: int | None
    lang: str
    is_automated: bool
    case_id: int | None
    processed_at: datetime | None
    contact_id: int
    tier: str
    # The author's identity's followers (the post's own count wins when it has one)
    # and their contact's account owner (None when there is none).
    identity_followers: int | None = None
    account_owner: str | None = None
    account: str = ""

    @property
    def pk(self) -> int:
        return self.id


def post_rows(ids: list[int], lock: bool = False) -> list[PostRow]:
    posts = Post.objects.filter(id__in=ids)
    if lock:
        # Row locks keep two workers from processing one post twice
        # (PostgreSQL); SQLite serialises writers anyway.
        posts = posts.select_for_update(of=("self",))
    return [PostRow(*values) for values in posts.values_list(*_COLUMNS)]
