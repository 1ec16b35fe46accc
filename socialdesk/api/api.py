"""The JSON API: routers per domain, token authentication on every endpoint."""

import logging
from datetime import timedelta

from django.conf import settings
from ninja import Field, Query, Schema, Status
from ninja.errors import HttpError
from ninja.parser import Parser

from socialdesk.api import errors
from socialdesk.api.auth import TokenThrottled, docs_access
from socialdesk.api.contacts import router as contacts_router
from socialdesk.api.errors import DocumentedAPI, responses
from socialdesk.api.inbox import router as inbox_router
from socialdesk.api.limits import TokenAuth, WebhookSignature
from socialdesk.api.schemas import (
    MAX_ID,
    ApproveIn,
    CaseDetailOut,
    CaseOut,
    CorrectionCreatedOut,
    CorrectionIn,
    CorrectionOut,
    DbId,
    ErrorOut,
    FollowUpOut,
    ModerationIn,
    ModerationOut,
    NoteIn,
    NoteOut,
    PostBatchIn,
    PostBatchOut,
    PostBatchStoredOut,
    PostOut,
    PriorityIn,
    RecordResult,
    ReplyIn,
    ReplyOut,
    ReturnIn,
    SavedReplyOut,
    SavedReplyTextOut,
    SourceSlug,
    TagsIn,
    TagsOut,
    Text,
    TriageBatchOut,
    TriageOut,
)
from socialdesk.cases import actions, approvals, moderation, notes
from socialdesk.cases.followups import FollowUpSpec
from socialdesk.cases.models import Case
from socialdesk.cases.queries import (
    access_case,
    access_reply,
    cases_visible_to,
    follow_ups_of,
    thread,
)
from socialdesk.cases.saved_replies import render_saved_reply, saved_replies_for
from socialdesk.connectors import webhook
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import Record, RecordError, check_record, loads
from socialdesk.pipeline import QueueUnavailable, contract, decide, ingest, record_input
from socialdesk.routing.actions import active_rules
from socialdesk.triage import feedback
from socialdesk.triage.actions import active_policy

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Every request carries `Authorization: Bearer <token>` (`socialdesk token USER`).

Every answer is JSON, errors included: `{"detail": "what went wrong"}`, with more
fields where an endpoint documents them. Each endpoint lists the status codes it
can answer. All of them can answer 400 (a request that cannot be read), 401 (no
token, or a bad one), 422 (parameters or a body that do not fit the schema; `errors`
says where), 429 (too many failed tokens from one address; `Retry-After` says
when to try again) and 503 (the database cannot be reached; `Retry-After` too).
Endpoints that take a body answer 413 for one over their size limit: the batch
endpoints take API_MAX_BATCH records of up to MAX_POST_CHARS characters
(docs/IMPORT.md); the others, 2.5 MB.
"""


class RecordParser(Parser):
    """Bodies are read the way import files are (ingestion.records.loads): a number no
    record may hold fails that record, with its index, not the whole request."""

    def parse_body(self, request):
        return loads(request.body)


api = DocumentedAPI(title="socialdesk API", version="1", description=DESCRIPTION,
                    auth=TokenAuth(), docs_decorator=docs_access, urls_namespace="api",
                    parser=RecordParser())
api.add_router("/contacts", contacts_router)
api.add_router("", inbox_router)
errors.install(api)


@api.exception_handler(webhook.Refused)
def webhook_refused(request, e: webhook.Refused):
    return api.create_response(request, {"detail": str(e)}, status=e.status)


@api.exception_handler(TokenThrottled)
def throttled(request, e: TokenThrottled):
    return e.response(api.create_response(request, {"detail": str(e)}, status=429))


@api.exception_handler(actions.ActionError)
def refused(request, e: actions.ActionError):
    """A refused action: 409 when another reply holds the post, 403 for what the user
    may not do, else 422 with the guideline findings (needs_confirmation: only
    warnings stand in the way)."""
    if isinstance(e, actions.ReplyCollision):
        return api.create_response(request, {"detail": str(e)}, status=409)
    if isinstance(e, actions.NotPermitted):
        return api.create_response(request, {"detail": str(e)}, status=403)
    findings = [{"check": f.check, "blocking": f.blocking, "message": f.message,
                 "evidence": f.evidence} for f in e.findings]
    return api.create_response(request, {
        "detail": str(e), "findings": findings,
        "needs_confirmation": isinstance(e, actions.NeedsConfirmation)}, status=422)


def _rejected(index: int, data: object, reason: str) -> RecordResult:
    external_id = data.get("external_id") if isinstance(data, dict) else None
    return RecordResult(index=index, status="rejected", error=reason,
                        external_id=str(external_id)[:255] if external_id else None)


def _check_batch(records: list[dict]) -> tuple[list[tuple[int, Record]], list[RecordResult]]:
    """The records that passed, by index, and a rejection for each that did not."""
    if len(records) > settings.API_MAX_BATCH:
        raise HttpError(413, f"at most {settings.API_MAX_BATCH} records a request")
    checked, results = [], []
    for index, data in enumerate(records):
        try:
            checked.append((index, check_record(data, settings.MAX_POST_CHARS)))
        except RecordError as e:
            results.append(_rejected(index, data, str(e)))
        except Exception:
            # A record the checks did not foresee is that record's problem, not the
            # batch's: it is refused, and the others go on.
            logger.exception("record %d of an API batch could not be checked", index)
            results.append(_rejected(index, data, "this record could not be checked; "
                                                  "it was not stored"))
    return checked, results


def _created_keys(ids: list[int]) -> set[tuple[str, str]]:
    # One parameter however many ids (lib.lookups): no chunks for SQLite's limit.
    return set(Post.objects.filter(id__in=ids).values_list("channel", "external_id"))


def _batch_out(checked: list[tuple[int, Record]], rejected: list[RecordResult],
               created_ids: list[int]) -> PostBatchOut:
    """One result per record, in order: created for the first record of each post this
    call stored, duplicate for the other records that passed."""
    created_keys = _created_keys(list(created_ids))
    results = list(rejected)
    for index, record in checked:
        key = (record.channel, record.external_id)
        results.append(RecordResult(index=index, external_id=record.external_id,
                                    status="created" if key in created_keys else "duplicate"))
        created_keys.discard(key)
    results.sort(key=lambda r: r.index)
    return PostBatchOut(
        created=sum(r.status == "created" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        results=results,
    )


STORED_NOT_QUEUED = ("The posts are stored, but they could not be queued for processing "
                     "just now; the desk processes them later. Sending the same batch again "
                     "is safe: stored posts come back as duplicates.")


@api.post("/posts", url_name="import_posts",
          response=responses({200: PostBatchOut}, body=True,
                             also={503: PostBatchStoredOut | ErrorOut}),
          tags=["ingestion"],
          summary="Import a batch of posts (idempotent on channel and external_id)",
          description="One result per record, in order: created, duplicate (stored before, "
                      "or earlier in the batch) or rejected (with the reason; the others "
                      "are kept). 413 for more than API_MAX_BATCH records or a body over "
                      "API_MAX_BODY_BYTES. 503, with Retry-After and the same results, "
                      "when the posts are stored but the queue that processes them is "
                      "unavailable: sending the batch again is safe.")
def import_posts(request, body: PostBatchIn):
    return _import(request, body, "api")


def _import(request, body: PostBatchIn, source: str):
    checked, rejected = _check_batch(body.records)
    try:
        outcome = ingest([r for _, r in checked], source=source)
    except QueueUnavailable as e:
        stored = _batch_out(checked, rejected, e.result.created)
        response = api.create_response(
            request, {**stored.model_dump(), "detail": STORED_NOT_QUEUED}, status=503)
        response["Retry-After"] = str(max(1, int(e.retry_after or 0)))
        return response
    return _batch_out(checked, rejected, outcome.created)


@api.post("/hooks/{slug}/posts", url_name="webhook_posts", auth=WebhookSignature(),
          response=responses({200: PostBatchOut}, body=True, forbidden=True, not_found=True,
                             also={503: PostBatchStoredOut | ErrorOut}),
          tags=["ingestion"],
          summary="Import a batch of posts from a listening tool (signed webhook)",
          description="For listening tools and in-house systems, with no API token: the "
                      "request is signed with the source's secret (`socialdesk webhook add "
                      "SLUG`). X-Socialdesk-Timestamp is the Unix time of signing; "
                      "X-Socialdesk-Signature is `v1=` and the hex HMAC-SHA256 of that time, "
                      "a full stop and the body (docs/CONNECTORS.md). The body and the "
                      "answers are the batch import's (POST /posts); posts are stored with "
                      "source `webhook:SLUG`. 401 for a missing or wrong signature or a "
                      "timestamp more than WEBHOOK_TOLERANCE_SECONDS away; 403 for a paused "
                      "source, 404 for an unknown one; 413 for a body over "
                      "WEBHOOK_MAX_BODY_BYTES.")
def webhook_posts(request, slug: SourceSlug, body: PostBatchIn):
    webhook.note_used(request.auth)
    return _import(request, body, f"webhook:{request.auth.slug}")


@api.post("/triage", url_name="triage_posts",
          response=responses({200: TriageBatchOut}, body=True), tags=["triage"],
          summary="Triage posts without storing them (the `socialdesk triage` contract)",
          description="413 for more than API_MAX_BATCH records or a body over "
                      "API_MAX_BODY_BYTES.")
def triage_posts(request, body: PostBatchIn):
    checked, rejected = _check_batch(body.records)
    inputs = [record_input(r) for _, r in checked]
    decided = decide(inputs, active_policy(), active_rules())
    results: list = list(rejected)
    for (index, _), (result, route) in zip(checked, decided, strict=True):
        results.append((index, TriageOut(**contract(result, route))))
    ordered = sorted(results, key=lambda r: r.index if isinstance(r, RecordResult) else r[0])
    return TriageBatchOut(results=[r if isinstance(r, RecordResult) else r[1] for r in ordered])


class CaseFilter(Schema):
    status: Text | None = None
    team: Text | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_ID)


def _case_out(case: Case) -> dict:
    return {
        "id": case.pk, "ref": case.ref, "status": case.status, "priority": case.priority,
        "decision": case.decision, "category": case.category, "channel": case.channel,
        "team": case.team.slug if case.team else None,
        "assignee": case.assignee.username if case.assignee else None, "subject": case.subject,
        "opened_at": case.opened_at, "first_response_due": case.first_response_due,
        "first_response_at": case.first_response_at, "tags": list(case.tags or []),
    }


@api.get("/cases", response=responses({200: list[CaseOut]}), tags=["cases"],
         summary="Cases this user may see")
def list_cases(request, filters: Query[CaseFilter]):
    cases = cases_visible_to(request.user).select_related("team", "assignee")
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.team:
        cases = cases.filter(team__slug=filters.team)
    cases = cases.order_by("priority", "opened_at")[filters.offset:filters.offset + filters.limit]
    return [_case_out(c) for c in cases]


@api.get("/cases/{case_id}", response=responses({200: CaseDetailOut}, not_found=True),
         tags=["cases"])
def get_case(request, case_id: DbId):
    case = access_case(request.user, case_id)
    posts = thread(case)
    opener = next((p for p in posts if p.direction == "inbound"), None)
    triage = getattr(opener, "triage", None) if opener else None
    return {
        **_case_out(case),
        "posts": [PostOut(channel=p.channel, external_id=p.external_id, direction=p.direction,
                          visibility=p.visibility, author=p.author.handle, text=p.text,
                          created_at=p.created_at, url=p.url) for p in posts],
        "reasons": triage.reasons if triage else [],
    }


def _correction_out(correction) -> dict:
    return {"id": correction.pk, "post_id": correction.post_id, "field": correction.field,
            "value": correction.value, "previous": correction.previous, "note": correction.note,
            "created_by": correction.created_by.username, "created_at": correction.created_at}


@api.post("/posts/{post_id}/corrections",
          response=responses({201: CorrectionCreatedOut}, body=True, not_found=True),
          tags=["triage"],
          summary="Correct a post's category, sentiment or decision (kept as a training label)",
          description="Answers 404 for a post outside the user's teams and 422, with a "
                      "message, for an unknown field or value or a correction that changes "
                      "nothing.")
def correct_post(request, post_id: DbId, body: CorrectionIn):
    post = feedback.access_post(request.user, post_id)
    try:
        correction = feedback.do_correct_triage(post, body.field, body.value, request.user,
                                                body.note)
    except feedback.CorrectionError as e:
        raise HttpError(422, str(e)) from None
    return Status(201, {"correction": _correction_out(correction), "triage": post.triage})


@api.get("/posts/{post_id}/corrections",
         response=responses({200: list[CorrectionOut]}, not_found=True),
         tags=["triage"], summary="The corrections of a post's triage, oldest first")
def list_corrections(request, post_id: DbId):
    post = feedback.access_post(request.user, post_id)
    return [_correction_out(c) for c in feedback.corrections_of([post.pk])]


def _reply_out(reply) -> dict:
    return {"id": reply.pk, "case_id": reply.case_id, "status": reply.status,
            "last_error": reply.last_error, "attempts": reply.attempts,
            "visibility": reply.visibility, "text": reply.text, "author": reply.author.username,
            "approval_by": reply.approval_by,
            "reviewed_by": reply.reviewed_by.username if reply.reviewed_by else None,
            "review_comment": reply.review_comment,
            "confirmed_warnings": reply.confirmed_warnings, "created_at": reply.created_at,
            "sent_at": reply.sent_at, "follow_up": reply.follow_up}


_REFUSALS = ("Answers 404 for a case the user may not see, 409 when another reply to the "
             "same post is already waiting or sent, and 422 with the guideline findings "
             "(ReplyRefusedOut) when the reply breaks one, or only warns and the warning is "
             "not in confirm_warnings.")


@api.post("/cases/{case_id}/replies",
          response=responses({201: ReplyOut}, body=True, not_found=True, conflict=True,
                             refused=True), tags=["cases"],
          summary="Reply on a case: checked, held for approval where the case needs it, "
                  "else queued for delivery", description=_REFUSALS)
def submit_reply(request, case_id: DbId, body: ReplyIn):
    case = access_case(request.user, case_id)
    asked = body.follow_up
    follow_up = (FollowUpSpec(asked.action, timedelta(hours=asked.within_hours), asked.on_expiry)
                 if asked is not None else None)
    reply = actions.do_submit_reply(case, request.user, body.text, body.visibility,
                                    body.confirm_warnings, follow_up)
    return Status(201, _reply_out(reply))


@api.post("/replies/{reply_id}/approve",
          response=responses({200: ReplyOut}, body=True, forbidden=True, not_found=True,
                             refused=True), tags=["cases"],
          summary="Approve a reply awaiting approval, optionally edited; it is delivered",
          description="403 for a user who may not approve it; 422 for a reply not awaiting "
                      "approval or an edit that breaks a guideline.")
def approve_reply(request, reply_id: DbId, body: ApproveIn):
    reply = approvals.do_approve_reply(access_reply(request.user, reply_id), request.user,
                                       body.text)
    return _reply_out(reply)


@api.post("/replies/{reply_id}/return",
          response=responses({200: ReplyOut}, body=True, forbidden=True, not_found=True,
                             refused=True), tags=["cases"],
          summary="Send a reply back to its author with a comment")
def return_reply(request, reply_id: DbId, body: ReturnIn):
    reply = approvals.do_return_reply(access_reply(request.user, reply_id), request.user,
                                      body.comment)
    return _reply_out(reply)


@api.post("/replies/{reply_id}/retry",
          response=responses({200: ReplyOut}, not_found=True, conflict=True, refused=True),
          tags=["cases"],
          summary="Send again a reply that was not delivered, or whose delivery is uncertain",
          description="409 when another reply to the same post has been written since; 422 "
                      "for a reply in another state, or a private one past the channel's "
                      "reply window.")
def retry_reply(request, reply_id: DbId):
    reply = access_reply(request.user, reply_id)
    actions.do_retry_reply(reply, request.user)
    reply.refresh_from_db()
    return _reply_out(reply)


@api.post("/replies/{reply_id}/delivered",
          response=responses({200: ReplyOut}, not_found=True, refused=True), tags=["cases"],
          summary="Mark delivered a reply whose delivery was uncertain, found on the channel",
          description="422 for a reply whose delivery is not uncertain.")
def confirm_delivered(request, reply_id: DbId):
    reply = access_reply(request.user, reply_id)
    actions.do_confirm_delivered(reply, request.user)
    reply.refresh_from_db()
    return _reply_out(reply)


@api.post("/cases/{case_id}/notes",
          response=responses({201: NoteOut}, body=True, not_found=True, refused=True),
          tags=["cases"],
          summary="Add a note (or a phone call or e-mail taken off the channel)")
def add_note(request, case_id: DbId, body: NoteIn):
    case = access_case(request.user, case_id)
    note = notes.do_add_note(case, request.user, body.text, body.kind)
    return Status(201, {"id": note.pk, "kind": note.kind, "text": note.text,
                        "author": note.author.username,
                        "mentions": [u.username for u in note.mentions.all()],
                        "created_at": note.created_at})


@api.post("/cases/{case_id}/posts/{post_id}/moderation",
          response=responses({202: ModerationOut}, body=True, not_found=True, refused=True),
          tags=["cases"],
          summary="Hide or show again a person's comment, or delete the brand's own post, "
                  "on the channel",
          description="Queued for the channel's connector; the answer's status says where it "
                      "is, and the case page shows the outcome. 422 where the channel cannot "
                      "do it (see docs/CONNECTORS.md), for a comment hidden already, while "
                      "another is pending for the post, or a hide with no reason.")
def moderate_post(request, case_id: DbId, post_id: DbId, body: ModerationIn):
    case = access_case(request.user, case_id)
    post = Post.objects.filter(pk=post_id, case=case).first()
    if post is None:
        raise HttpError(404, "No such post on this case.")
    item = moderation.do_request_moderation(case, post, body.action, request.user, body.reason)
    item.refresh_from_db()
    return Status(202, {"id": item.pk, "post": post.pk, "action": item.action,
                        "status": item.status, "reason": item.reason,
                        "attempts": item.attempts, "last_error": item.last_error,
                        "created_at": item.created_at})


@api.post("/cases/{case_id}/priority",
          response=responses({200: CaseOut}, body=True, not_found=True, refused=True),
          tags=["cases"],
          summary="Set the case's priority (P0 most urgent, P3 least)",
          description="Answers 404 for a case the user may not see and 422 for another value.")
def set_priority(request, case_id: DbId, body: PriorityIn):
    case = access_case(request.user, case_id)
    actions.do_set_priority(case, body.priority, request.user)
    return _case_out(case)


@api.post("/cases/{case_id}/tags",
          response=responses({200: TagsOut}, body=True, not_found=True, refused=True),
          tags=["cases"],
          summary="Add and remove the case's tags, or replace them all",
          description="Tags are stored in lower case: 1 to 40 letters, digits, - or _, at "
                      "most 20 on a case. Answers 404 for a case the user may not see and "
                      "422, with a message, for a tag that breaks these rules.")
def set_tags(request, case_id: DbId, body: TagsIn):
    case = access_case(request.user, case_id)
    if body.tags is not None and (body.add or body.remove):
        raise HttpError(422, "Send either tags (to replace them all) or add and remove.")
    if body.tags is not None:
        return {"tags": actions.do_set_tags(case, body.tags, request.user)}
    return {"tags": actions.do_change_tags(case, request.user, body.add, body.remove)}


@api.get("/cases/{case_id}/saved-replies",
         response=responses({200: list[SavedReplyOut]}, not_found=True), tags=["cases"],
         summary="The saved replies offered for a case, most specific first")
def list_saved_replies(request, case_id: DbId):
    case = access_case(request.user, case_id)
    return [{"id": s.pk, "name": s.name, "channel": s.channel, "lang": s.lang,
             "team": s.team.slug if s.team else None}
            for s in saved_replies_for(case, request.user)]


@api.get("/cases/{case_id}/saved-replies/{saved_id}",
         response=responses({200: SavedReplyTextOut}, not_found=True, refused=True),
         tags=["cases"],
         summary="A saved reply's text filled in for the case ({first_name}, {agent_name}, "
                 "{case_ref})",
         description="Answers 404 for a case the user may not see or a saved reply it does "
                     "not offer, and 422 for a saved reply whose text cannot be filled in.")
def get_saved_reply(request, case_id: DbId, saved_id: DbId):
    case = access_case(request.user, case_id)
    saved = next((s for s in saved_replies_for(case, request.user) if s.pk == saved_id), None)
    if saved is None:
        raise HttpError(404, "No such saved reply for this case.")
    return {"id": saved.pk, "name": saved.name,
            "text": render_saved_reply(saved, case, request.user)}


@api.get("/cases/{case_id}/follow-ups",
         response=responses({200: list[FollowUpOut]}, not_found=True), tags=["cases"],
         summary="What the case waits for, and what it waited for")
def list_follow_ups(request, case_id: DbId):
    case = access_case(request.user, case_id)
    return [{"id": f.pk, "kind": f.kind, "action": f.action, "due_at": f.due_at,
             "on_expiry": f.on_expiry, "status": f.status,
             "created_by": f.created_by.username if f.created_by else None,
             "created_at": f.created_at, "closed_at": f.closed_at}
            for f in follow_ups_of(case)]
