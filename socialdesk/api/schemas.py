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


class CaseSummaryOut(Schema):
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


class CaseOut(CaseSummaryOut):
    first_response_due: datetime | None
    first_response_at: datetime | None
    tags: list[str]


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


class FollowUpIn(Schema):
    action: str = Field(..., max_length=200, description='What the customer should do, e.g. '
                                                         '"DM us their order number"')
    within_hours: float = Field(..., gt=0, le=90 * 24, description="Due this long after the "
                                                                  "reply is delivered")
    on_expiry: Literal["remind", "reopen"] = "remind"


class ReplyIn(Schema):
    text: str = Field(..., max_length=20_000)
    visibility: Literal["public", "private"]
    confirm_warnings: list[str] = Field(
        default_factory=list, description="Guideline warnings (their `check`) the author read "
                                          "and sends the reply anyway")
    follow_up: FollowUpIn | None = None


class PendingFollowUpOut(Schema):
    action: str
    hours: float
    on_expiry: str


class ReplyOut(Schema):
    id: int
    case_id: int
    status: str
    visibility: str
    text: str
    author: str
    approval_by: str
    reviewed_by: str | None
    review_comment: str
    confirmed_warnings: list[str]
    created_at: datetime
    sent_at: datetime | None
    # What the reply asks of the customer, scheduled as a follow-up once it is sent.
    follow_up: PendingFollowUpOut | None = None


class FindingOut(Schema):
    check: str
    blocking: bool
    message: str
    evidence: str


class ReplyRefusedOut(Schema):
    detail: str
    # True: only warnings stand in the way; send again with them in confirm_warnings.
    needs_confirmation: bool
    findings: list[FindingOut]


class ApproveIn(Schema):
    text: str | None = Field(None, max_length=20_000,
                             description="The reply as edited by the approver; omit to send "
                                         "it as written")


class ReturnIn(Schema):
    comment: str = Field(..., min_length=1, max_length=2000)


class NoteIn(Schema):
    text: str = Field(..., max_length=10_000, description="@username mentions notify colleagues")
    kind: Literal["note", "phone", "email"] = "note"


class NoteOut(Schema):
    id: int
    kind: str
    text: str
    author: str
    mentions: list[str]
    created_at: datetime


class FollowUpOut(Schema):
    id: int
    kind: str
    action: str
    due_at: datetime
    on_expiry: str
    status: str
    created_by: str | None
    created_at: datetime
    closed_at: datetime | None


class PriorityIn(Schema):
    priority: Literal["P0", "P1", "P2", "P3"]


class TagsIn(Schema):
    """Either `tags` (the case's tags become exactly these) or `add` and `remove`."""

    tags: list[str] | None = Field(None, max_length=20, description="Replace every tag")
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=100)


class TagsOut(Schema):
    tags: list[str]


class SavedReplyOut(Schema):
    id: int
    name: str
    channel: str
    lang: str
    team: str | None


class SavedReplyTextOut(Schema):
    id: int
    name: str
    text: str = Field(..., description="Filled in for the case and the user asking")
