import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import AfterValidator, BeforeValidator, model_validator

# What the database's ids are: positive 64-bit integers. A larger number names no
# row, and is refused (422) before it reaches a query that cannot hold it.
MAX_ID = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
# A webhook source's name (connectors.webhook).
SourceSlug = Annotated[str, Field(min_length=1, max_length=24,
                                  pattern=r"^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$")]


def _storable(value: str) -> str:
    # PostgreSQL cannot hold NUL in text, nor compare text with it.
    if "\x00" in value:
        raise ValueError("text cannot contain the NUL character (U+0000)")
    return value


# Text the API takes: any string without NUL, in a body or a query string alike
# (Django's form fields refuse NUL the same way).
Text = Annotated[str, AfterValidator(_storable),
                 Field(json_schema_extra={"pattern": "^[^\\x00]*$"})]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    # Pydantic would also read a number, or a string of digits, as a Unix time.
    if not isinstance(value, date) and not (isinstance(value, str)
                                            and _ISO_DATE.fullmatch(value)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# A calendar date as OpenAPI's format "date" has it (2026-11-16), and nothing else.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class BodyIn(Schema):
    """A request body: a JSON object, whose fields the subclass names. (A Schema alone
    would read a string or a list too, as an object with none of its fields.)"""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        given = data._obj if isinstance(data, DjangoGetter) else data
        if not isinstance(given, dict):
            raise ValueError("the body is a JSON object")
        return data


class ErrorOut(Schema):
    """Every error answer has a `detail` that says what went wrong."""

    detail: str


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(..., description='Where: "body", "query" or "path", then '
                                                  "the field's path")
    msg: str
    type: str


class ValidationErrorOut(ErrorOut):
    """422: the request does not fit the endpoint's schema (`errors` says where), or the
    endpoint refused a value it cannot take (`detail` alone)."""

    errors: list[FieldErrorOut] = Field(default_factory=list)


class PostBatchIn(BodyIn):
    # Any JSON value per record: one that is not an object is refused on its own,
    # by index, like any other bad record, and the batch's good records are kept.
    records: list[Any] = Field(
        ..., description="Posts in the import schema (docs/IMPORT.md), each a JSON object, at "
                         "most API_MAX_BATCH; a longer batch is refused whole (413), a record "
                         "that is not a post is rejected on its own (its result says why)",
        json_schema_extra={"maxItems": settings.API_MAX_BATCH},
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


class PostBatchStoredOut(PostBatchOut):
    """503: the batch is stored but not yet queued for processing. `results` says what
    was stored; sending the same batch again is safe (what is stored comes back as
    duplicates, and is queued again)."""

    detail: str


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


class CorrectionIn(BodyIn):
    field: Literal["category", "sentiment", "decision"]
    value: Text = Field(..., description="A category, sentiment or decision of the triage "
                                        "contract (docs/TRIAGE.md)", max_length=16)
    note: Text = Field("", description="Why, in a few words (kept with the label)",
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


class FollowUpIn(BodyIn):
    action: Text = Field(..., max_length=200, description='What the customer should do, e.g. '
                                                         '"DM us their order number"')
    within_hours: float = Field(..., gt=0, le=90 * 24, description="Due this long after the "
                                                                  "reply is delivered")
    on_expiry: Literal["remind", "reopen"] = "remind"


class ReplyIn(BodyIn):
    text: Text = Field(..., max_length=20_000)
    visibility: Literal["public", "private"]
    confirm_warnings: list[Text] = Field(
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
    # awaiting_approval, returned, queued, sending, sent, failed (not delivered:
    # last_error says why) or uncertain (the sender stopped mid-delivery).
    status: str
    last_error: str = ""
    attempts: int = 0
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


class ReplyRefusedOut(ErrorOut):
    """422: an action the desk refused (cases.actions.ActionError), with the guideline
    findings behind it; `findings` is empty where the refusal is not about a reply's
    text."""

    # True: only warnings stand in the way; send again with them in confirm_warnings.
    needs_confirmation: bool
    findings: list[FindingOut]


class ApproveIn(BodyIn):
    text: Text | None = Field(None, max_length=20_000,
                             description="The reply as edited by the approver; omit to send "
                                         "it as written")


class ReturnIn(BodyIn):
    comment: Text = Field(..., min_length=1, max_length=2000)


class NoteIn(BodyIn):
    text: Text = Field(..., max_length=10_000, description="@username mentions notify colleagues")
    kind: Literal["note", "phone", "email"] = "note"


class NoteOut(Schema):
    id: int
    kind: str
    text: str
    author: str
    mentions: list[str]
    created_at: datetime


class ModerationIn(BodyIn):
    action: Literal["hide", "unhide", "delete"]
    reason: Text = Field("", max_length=500,
                         description="Why a comment is hidden (required to hide)")


class ModerationOut(Schema):
    id: int
    post: int
    action: str
    status: str = Field(..., description="queued, sending, done or failed")
    reason: str
    attempts: int
    last_error: str
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


class PriorityIn(BodyIn):
    priority: Literal["P0", "P1", "P2", "P3"]


class TagsIn(BodyIn):
    """Either `tags` (the case's tags become exactly these) or `add` and `remove`."""

    tags: list[Text] | None = Field(None, max_length=20, description="Replace every tag")
    add: list[Text] = Field(default_factory=list, max_length=20)
    remove: list[Text] = Field(default_factory=list, max_length=100)


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
