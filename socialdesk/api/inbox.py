"""The inbox over the API: a view's cases with the web inbox's filters, and bulk actions."""

import re
from datetime import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from socialdesk.accounts.models import User
from socialdesk.api.errors import responses
from socialdesk.api.schemas import BodyIn, CaseSummaryOut, DbId, IsoDate, Text
from socialdesk.cases import bulk
from socialdesk.cases.inbox import (
    COUNT_CAP,
    DEFAULT_VIEW,
    INBOX_VIEWS,
    SORTS,
    InboxFilters,
    capped_counts,
    inbox,
    opening_posts,
)
from socialdesk.cases.models import Case
from socialdesk.connectors import channels
from socialdesk.search.queries import SearchError, parse
from socialdesk.triage.feedback import CATEGORIES, SENTIMENTS

router = Router(tags=["inbox"])

_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


class InboxQuery(Schema):
    view: Literal[tuple(INBOX_VIEWS)] = DEFAULT_VIEW  # type: ignore[valid-type]
    q: Text | None = None
    channel: Literal[channels.NAMES] | None = None  # type: ignore[valid-type]
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    sentiment: Literal[SENTIMENTS] | None = None  # type: ignore[valid-type]
    priority: Literal["P0", "P1", "P2", "P3", "P4"] | None = None
    status: Literal[tuple(Case.Status.values)] | None = None  # type: ignore[valid-type]
    team: Text | None = None
    assignee: Text | None = None
    topic: Text | None = None
    lang: Text | None = None
    opened_from: IsoDate | None = None
    opened_to: IsoDate | None = None
    sort: Literal[tuple(SORTS)] = "sla"  # type: ignore[valid-type]
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000)


class InboxRowOut(CaseSummaryOut):
    sentiment: str | None
    excerpt: str
    author: str | None
    author_name: str | None
    followers: int | None
    tags: list[str]
    sla_due_at: datetime | None


class InboxOut(Schema):
    view: str
    count: int
    count_is_capped: bool
    results: list[InboxRowOut]


class BulkIn(BodyIn):
    action: Literal["assign_me", "assign", "tag", "resolve", "spam"]
    case_ids: list[DbId] = Field(..., min_length=1, max_length=bulk.MAX_CASES)
    assignee: Text | None = None
    tag: Text | None = None


class BulkOut(Schema):
    changed: int
    cases: int


def _filters(query: InboxQuery) -> InboxFilters:
    lang = (query.lang or "").strip().lower()
    if lang and not _LANG.fullmatch(lang):
        raise HttpError(422, "lang is a language code such as en or pt-br")
    q = (query.q or "").strip()
    if q:
        try:
            parse(q)
        except SearchError as e:
            raise HttpError(422, f"q: {e}") from None
    return InboxFilters(
        channel=query.channel or "", category=query.category or "",
        sentiment=query.sentiment or "", priority=query.priority or "",
        status=query.status or "", team=query.team or "", assignee=query.assignee or "",
        topic=query.topic or "", lang=lang, opened_from=query.opened_from,
        opened_to=query.opened_to, q=q, sort=query.sort)


def _row(case: Case, post) -> dict:
    triage = getattr(post, "triage", None) if post else None
    author = post.author if post else None
    return {
        "id": case.pk, "ref": case.ref, "status": case.status, "priority": case.priority,
        "decision": case.decision, "category": case.category,
        "sentiment": triage.sentiment if triage else None, "channel": case.channel,
        "team": case.team.slug if case.team else None,
        "assignee": case.assignee.username if case.assignee else None,
        "subject": case.subject, "excerpt": (post.text if post else case.subject)[:280],
        "author": author.handle if author else None,
        "author_name": (author.name or None) if author else None,
        "followers": (post.followers if post.followers is not None else author.followers)
        if post else None,
        "tags": list(case.tags or []), "opened_at": case.opened_at,
        "sla_due_at": case.sla_due_at,
    }


@router.get("/inbox", response=responses({200: InboxOut}),
            summary="A view of the inbox, filtered and sorted as the web inbox does",
            description="Views: " + ", ".join(INBOX_VIEWS) + ". `count` stops at "
                        f"{COUNT_CAP + 1:,} (count_is_capped). Answers 422, with a message, "
                        "for a filter value that does not fit or a search that cannot run.")
def list_inbox(request, query: Query[InboxQuery]):
    filters = _filters(query)
    cases = inbox(request.user, query.view, filters)
    rows = list(cases[query.offset:query.offset + query.limit])
    openers = opening_posts([c.pk for c in rows])
    (count,) = capped_counts([cases])
    return {"view": query.view, "count": min(count, COUNT_CAP),
            "count_is_capped": count > COUNT_CAP,
            "results": [_row(c, openers.get(c.pk)) for c in rows]}


@router.post("/inbox/bulk", response=responses({200: BulkOut}, body=True, forbidden=True,
                                              refused=True),
             summary="Assign, tag, resolve or mark as spam many cases at once, all or none",
             description="403, and nothing changed, when any case is not the user's to "
                         "change; 422 with a message when the action refuses one of them.")
def bulk_action(request, body: BulkIn):
    user = request.user
    if body.action == "assign" and not body.assignee:
        raise HttpError(422, "Say who gets the cases: assignee is a username.")
    if body.action == "tag" and not (body.tag or "").strip():
        raise HttpError(422, "Say which tag to add: tag.")
    assignee = None
    if body.action == "assign":
        assignee = User.objects.filter(username=body.assignee, is_active=True).first()
        if assignee is None:
            raise HttpError(422, f"No active user {body.assignee[:60]!r}: assignee is a "
                                 "username.")
    cases = bulk.check_cases(user, body.case_ids)
    changed = bulk.do_bulk(body.action, cases, user, assignee, body.tag or "")
    return {"changed": changed, "cases": len(cases)}
