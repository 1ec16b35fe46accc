"""Thin views: look up with access_*, validate with a form, call one action, render."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from socialdesk.analytics.metrics import channel_report
from socialdesk.cases import actions, approvals, followups, moderation, notes, steps
from socialdesk.cases.models import Case
from socialdesk.cases.queries import (
    access_case,
    access_reply,
    awaiting_approval_by,
    can_approve,
    cases_visible_to,
    follow_ups_of,
    notes_of,
    others_on_case,
    replies_of,
    thread,
)
from socialdesk.cases.saved_replies import may_manage_saved_replies, saved_replies_for
from socialdesk.cases.sla import case_sla_status
from socialdesk.connectors import channels
from socialdesk.ingestion.models import Post
from socialdesk.triage import feedback
from socialdesk.web import health
from socialdesk.web.forms import (
    AcknowledgeForm,
    ApproveForm,
    AssignForm,
    CheckBackForm,
    CorrectionForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    ReportRangeForm,
    ReturnForm,
    StatusForm,
    TagsForm,
)

# Clocks the page shows; a reply window that passed or was answered ("closed") is history.
SHOWN_CLOCKS = ("active", "paused", "hit", "missed")


@require_GET
def healthz_live(request):
    """The process answers: a supervisor (systemd, Kubernetes) restarts it otherwise."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def healthz(request):
    """Ready to take work: the database answers and, in the scale-out mode, the
    broker too. 503, naming what is down, otherwise (a load balancer sends no
    traffic here then). Also at /healthz/ready."""
    checks = health.readiness()
    ready = all(state in ("ok", health.NOT_USED) for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)


@require_GET
def case_view(request, case_id: int):
    case = access_case(request.user, case_id)
    return case_page(request, case)


def case_page(request, case, status: int = 200, **forms):
    """The case page; a refused form comes back bound, with its findings."""
    posts = thread(case)
    replies = replies_of(case)
    clocks = list(case.clocks.all())
    return render(request, "web/case.html", {
        "case": case,
        "timeline": _timeline(request.user, case, posts, replies),
        "triage_panels": _triage_panels(posts),
        "clocks": sorted((c for c in clocks if c.state in SHOWN_CLOCKS),
                         key=lambda c: (c.state not in ("active", "paused"), c.due_at)),
        "sla_status": case_sla_status(clocks),
        "now": timezone.now(),
        "events": case.events.select_related("actor").order_by("at", "id"),
        "reply_form": forms.get("reply_form") or ReplyForm(
            initial={"visibility": _default_visibility(case)}),
        "ack_form": forms.get("ack_form") or AcknowledgeForm(prefix="ack"),
        "findings": forms.get("findings", []),
        "findings_for": forms.get("findings_for", ""),
        "status_form": StatusForm(initial={"status": case.status}),
        "priority_form": PriorityForm(case=case),
        "assign_form": (AssignForm(case=case) if actions.may_assign_others(request.user, case)
                        else None),
        "tags_form": TagsForm(),
        "note_form": NoteForm(prefix="note"),
        "check_back_form": CheckBackForm(prefix="checkback"),
        "limit": channels.channel(case.channel).reply_limit("public"),
        "private_limit": channels.channel(case.channel).reply_limit("private"),
        "saved_replies": saved_replies_for(case, request.user),
        "manages_saved_replies": may_manage_saved_replies(request.user),
        "steps": steps.for_display(case),
        "notes": notes_of(case),
        "follow_ups": follow_ups_of(case),
        "can_approve_case": can_approve(request.user, case),
    }, status=status)


def _timeline(user, case, posts, replies) -> list[dict]:
    """The thread in order, public and private: every post, ours marked with the reply
    that sent it, and our replies not (yet) sent where they were written."""
    by_post = {r.post_id: r for r in replies if r.post_id}
    moderated = moderation.latest_by_post(case)
    items = [{"at": p.created_at, "post": p, "reply": by_post.get(p.pk),
              "moderation": moderated.get(p.pk),
              "offered": moderation.offered(p, moderated.get(p.pk))} for p in posts]
    items += [{"at": row["reply"].created_at, **row}
              for row in _reviews(user, case, [r for r in replies if not r.post_id])]
    return sorted(items, key=lambda item: item["at"])


def _triage_panels(posts) -> list[dict]:
    """Each inbound post's triage, its corrections so far, and a form to correct it."""
    triaged = [p for p in posts if p.direction == "inbound" and hasattr(p, "triage")]
    history = feedback.correction_history([p.pk for p in triaged])
    return [{"post": p, "triage": p.triage, "form": CorrectionForm(triage=p.triage),
             "history": history.get(p.pk, [])} for p in triaged]


def _reviews(user, case, replies) -> list[dict]:
    """Replies not yet sent, each with review forms where this user may approve it."""
    rows = []
    for reply in replies:
        reviewable = (reply.status == "awaiting_approval"
                      and can_approve(user, case, reply.approval_by))
        rows.append({"reply": reply, "reviewable": reviewable,
                     "approve_form": ApproveForm(prefix=f"r{reply.pk}",
                                                 initial={"text": reply.text}),
                     "return_form": ReturnForm(prefix=f"r{reply.pk}")})
    return rows


def _default_visibility(case) -> str:
    return "private" if case.reply_mode == "private" else "public"


def form_errors(form) -> str:
    return "; ".join(e for errs in form.errors.values() for e in errs)


def form_action(request, form, act, refusals: tuple = (actions.ActionError,)) -> None:
    """Validate the form and run `act(cleaned_data)`, which returns what to tell the
    user (None: nothing); form errors and refusals become error messages."""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return
    try:
        said = act(form.cleaned_data)
    except refusals as e:
        messages.error(request, str(e))
        return
    if said:
        messages.success(request, said)


@require_POST
def reply_view(request, case_id: int):
    case = access_case(request.user, case_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return case_page(request, case, 422, reply_form=form)
    data = form.cleaned_data
    try:
        reply = actions.do_submit_reply(case, request.user, data["text"], data["visibility"],
                                        data["confirm_warnings"], form.follow_up_spec())
    except actions.ActionError as e:
        messages.error(request, str(e))
        return case_page(request, case, 422, reply_form=form, findings=e.findings,
                         findings_for="reply")
    messages.success(request, _submitted(reply))
    return redirect("web:case", case_id=case.pk)


def _submitted(reply) -> str:
    if reply.status == "awaiting_approval":
        return f"Reply saved: it waits for approval by {reply.approval_by}."
    return "Reply queued for delivery."


@require_POST
def acknowledge_view(request, case_id: int):
    case = access_case(request.user, case_id)
    form = AcknowledgeForm(request.POST, prefix="ack")
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return case_page(request, case, 422, ack_form=form)
    data = form.cleaned_data
    try:
        replies = actions.do_acknowledge_and_continue(
            case, request.user, data["public_text"], data["private_text"],
            data["confirm_warnings"], form.follow_up_spec())
    except actions.ActionError as e:
        messages.error(request, str(e))
        return case_page(request, case, 422, ack_form=form, findings=e.findings,
                         findings_for="ack")
    messages.success(request, _submitted(replies[-1]).replace(
        "Reply", "Acknowledgement and private message" if len(replies) > 1 else "Reply", 1))
    return redirect("web:case", case_id=case.pk)


def _back(request, reply):
    if request.POST.get("next") == "approvals":
        return redirect("web:approvals")
    return redirect("web:case", case_id=reply.case_id)


@require_POST
def approve_view(request, reply_id: int):
    reply = access_reply(request.user, reply_id)

    def approve(data):
        approvals.do_approve_reply(reply, request.user, data["text"] or None)
        return f"Reply approved: {reply.case.ref} is on its way."

    form_action(request, ApproveForm(request.POST, prefix=f"r{reply.pk}"), approve)
    return _back(request, reply)


@require_POST
def return_view(request, reply_id: int):
    reply = access_reply(request.user, reply_id)

    def send_back(data):
        approvals.do_return_reply(reply, request.user, data["comment"])
        return f"Reply sent back to {reply.author.username}."

    form_action(request, ReturnForm(request.POST, prefix=f"r{reply.pk}"), send_back)
    return _back(request, reply)


def _undelivered_action(request, reply_id: int, act, done: str):
    """Send again, or mark delivered, a reply that was not delivered."""
    reply = access_reply(request.user, reply_id)
    try:
        act(reply, request.user)
        messages.success(request, done.format(ref=reply.case.ref))
    except actions.ActionError as e:
        messages.error(request, str(e))
    return _back(request, reply)


@require_POST
def retry_view(request, reply_id: int):
    return _undelivered_action(request, reply_id, actions.do_retry_reply,
                               "Reply queued again for {ref}.")


@require_POST
def confirm_delivered_view(request, reply_id: int):
    return _undelivered_action(request, reply_id, actions.do_confirm_delivered,
                               "Reply on {ref} marked delivered.")


@require_GET
def approvals_view(request):
    rows = [{"reply": r, "approve_form": ApproveForm(prefix=f"r{r.pk}", initial={"text": r.text}),
             "return_form": ReturnForm(prefix=f"r{r.pk}")}
            for r in awaiting_approval_by(request.user)]
    return render(request, "web/approvals.html", {"rows": rows})


@require_POST
def note_view(request, case_id: int):
    case = access_case(request.user, case_id)

    def add_note(data):
        note = notes.do_add_note(case, request.user, data["text"], data["kind"])
        return f"{note.get_kind_display()} noted."

    form_action(request, NoteForm(request.POST, prefix="note"), add_note)
    return redirect(reverse("web:case", args=[case.pk]) + "#notes-h")


@require_POST
def check_back_view(request, case_id: int):
    case = access_case(request.user, case_id)

    def check_back(data):
        followups.do_schedule_check_back(case, request.user, timedelta(hours=data["hours"]),
                                         data["action"], data["on_expiry"])
        return "Check-back scheduled."

    form_action(request, CheckBackForm(request.POST, prefix="checkback"), check_back)
    return redirect(reverse("web:case", args=[case.pk]) + "#follow-ups-h")


@require_POST
def presence_view(request, case_id: int):
    """Polled by the case page: records the viewer, answers who else is there."""
    case = access_case(request.user, case_id)
    now = timezone.now()
    # The page sends its reply box: text in it means this person is writing a reply.
    drafting = bool(request.POST["text"].strip()) if "text" in request.POST else None
    notes.do_touch_presence(case, request.user, drafting, now)
    return render(request, "web/_presence.html",
                  {"others": others_on_case(case, request.user, now)})


@require_POST
def assign_to_me_view(request, case_id: int):
    case = access_case(request.user, case_id)
    actions.do_assign(case, request.user, actor=request.user)
    messages.success(request, f"{case.ref} is assigned to you.")
    return redirect("web:case", case_id=case.pk)


@require_POST
def status_view(request, case_id: int):
    case = access_case(request.user, case_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        actions.do_set_status(case, form.cleaned_data["status"], actor=request.user)
        messages.success(request, f"{case.ref} is now {case.get_status_display().lower()}.")
    else:
        messages.error(request, "Unknown status.")
    return redirect("web:case", case_id=case.pk)


@require_POST
def correct_triage_view(request, case_id: int, post_id: int):
    case = access_case(request.user, case_id)
    post = feedback.access_post(request.user, post_id, case=case)
    form = CorrectionForm(request.POST, triage=getattr(post, "triage", None),
                          prefix=f"post{post.pk}")
    if form.is_valid():
        try:
            done = feedback.do_apply_corrections(post, form.changes(), request.user,
                                                 form.cleaned_data["note"])
            messages.success(request, "Triage corrected: " + "; ".join(
                f"{c.field} {c.previous} → {c.value}" for c in done) + ".")
        except feedback.CorrectionError as e:
            messages.error(request, str(e))
    else:
        messages.error(request, "; ".join(f"{name}: {' '.join(errors)}"
                                          for name, errors in form.errors.items()))
    if not cases_visible_to(request.user).filter(pk=case.pk).exists():
        # Decided again into another team's hands: this person no longer sees it.
        moved = Case.objects.select_related("team").get(pk=case.pk)
        messages.info(request, f"{moved.ref} now belongs to {moved.team.name}, as the "
                               "routing rules say for the corrected triage.")
        return redirect("web:inbox")
    return redirect(reverse("web:case", args=[case.pk]) + f"#triage-{post.pk}")


@require_POST
def moderate_view(request, case_id: int, post_id: int):
    """Hide or show again a comment, delete our own post, or try one of these again."""
    case = access_case(request.user, case_id)
    post = get_object_or_404(Post.objects.select_related("author"), pk=post_id, case=case)
    action = request.POST.get("action", "")
    try:
        if action == "retry":
            last = moderation.last_for(post)
            if last is None:
                raise actions.ActionError("Nothing was asked for this post.")
            moderation.do_retry_moderation(last, request.user)
            messages.success(request, "Sent to the channel again.")
        else:
            moderation.do_request_moderation(case, post, action, request.user,
                                             request.POST.get("reason", ""))
            messages.success(request, f"Asked the channel to {action} the post.")
    except actions.ActionError as e:
        messages.error(request, str(e))
    return redirect(reverse("web:case", args=[case.pk]) + f"#post-{post.pk}")


@require_GET
def report_view(request):
    form = ReportRangeForm(request.GET or None)
    start = end = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return render(request, "web/report.html", {
        "form": form, "rows": channel_report(start, end, user=request.user),
        "start": start, "end": end,
    })
