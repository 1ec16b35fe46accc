from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema


class PostBatchIn(Schema):
    records: list[dict[str, Any]] = Field(
        ..., description="Posts in the import schema (docs/IMPORT.md), at most API_MAX_BATCH"
    )


class RecordResult(Schema):
    index: int
    external_id: str | None = None
    status: Literal["created", "duplicate", "rejected"]
    error: str | None = None


class PostBatchOut(Schema):
    created: int
    duplicates: int
    rejected: int
    results: list[RecordResult]


class TriageOut(Schema):
    channel: str
    external_id: str
    sentiment: Literal["negative", "neutral", "positive"]
    category: str
    decision: Literal["respond", "escalate", "monitor", "let_stand", "hide"]
    severity: int
    priority: str
    team: str
    reasons: list[str]


class TriageBatchOut(Schema):
    results: list[TriageOut | RecordResult]


class CaseOut(Schema):
    id: int
    ref: str
    status: str
    priority: str
    decision: str
    category: str
    channel: str
    team: str | None
    assignee: str | None
    subject: str
    opened_at: datetime
    first_response_due: datetime | None
    first_response_at: datetime | None


class PostOut(Schema):
    channel: str
    external_id: str
    direction: str
    visibility: str
    author: str
    text: str
    created_at: datetime
    url: str


class CaseDetailOut(CaseOut):
    posts: list[PostOut]
    reasons: list[str]


class ErrorOut(Schema):
    detail: str


class CorrectionIn(Schema):
    field: Literal["category", "sentiment", "decision"]
    value: str = Field(..., description="A category, sentiment or decision of the triage "
                                        "contract (docs/TRIAGE.md)", max_length=16)
    note: str = Field("", description="Why, in a few words (kept with the label)",
                      max_length=2000)


class CorrectionOut(Schema):
    id: int
    post_id: int
    field: str
    value: str
    previous: str
    note: str
    created_by: str
    created_at: datetime


class TriageStateOut(Schema):
    """A post's triage as it stands, after any corrections."""

    category: str
    sentiment: str
    decision: str
    severity: int
    priority: str
    reply_mode: str
    owner_team: str
    first_response_minutes: int | None
    policy_version: int
    corrected_at: datetime | None
    reasons: list[str]


class CorrectionCreatedOut(Schema):
    correction: CorrectionOut
    triage: TriageStateOut
