"""Thin views: look up with access_*, validate with a form, call one action, render."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from socialdesk.analytics.metrics import channel_report
from socialdesk.cases import actions
from socialdesk.cases.queries import INBOX_VIEWS, access_case, inbox, thread
from socialdesk.triage import feedback
from socialdesk.web.forms import CorrectionForm, ReplyForm, ReportRangeForm, StatusForm


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def inbox_view(request):
    view = request.GET.get("view", "needs-response")
    if view not in INBOX_VIEWS:
        view = "needs-response"
    cases = inbox(request.user, view, team=request.GET.get("team", ""),
                  channel=request.GET.get("channel", ""))
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    context = {"page": page, "view": view, "views": INBOX_VIEWS}
    template = "web/_inbox_rows.html" if request.htmx else "web/inbox.html"
    return render(request, template, context)


@require_GET
def case_view(request, case_id: int):
    case = access_case(request.user, case_id)
    posts = thread(case)
    opener = next((p for p in posts if p.direction == "inbound"), None)
    return render(request, "web/case.html", {
        "case": case,
        "posts": posts,
        "triage": getattr(opener, "triage", None) if opener else None,
        "triage_panels": _triage_panels(posts),
        "events": case.events.select_related("actor").order_by("at", "id"),
        "reply_form": ReplyForm(initial={"visibility": _default_visibility(case)}),
        "status_form": StatusForm(initial={"status": case.status}),
        "limit": actions.channel_limit(case.channel),
    })


def _triage_panels(posts) -> list[dict]:
    """Each inbound post's triage, its corrections so far, and a form to correct it."""
    triaged = [p for p in posts if p.direction == "inbound" and hasattr(p, "triage")]
    history = feedback.correction_history([p.pk for p in triaged])
    return [{"post": p, "triage": p.triage, "form": CorrectionForm(triage=p.triage),
             "history": history.get(p.pk, [])} for p in triaged]


def _default_visibility(case) -> str:
    return "private" if case.reply_mode == "private" else "public"


@require_POST
def reply_view(request, case_id: int):
    case = access_case(request.user, case_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            actions.do_queue_reply(case, request.user, form.cleaned_data["text"],
                                   form.cleaned_data["visibility"])
            messages.success(request, "Reply queued for delivery.")
        except actions.ActionError as e:
            messages.error(request, str(e))
    else:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("web:case", case_id=case.pk)


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
    return redirect(reverse("web:case", args=[case.pk]) + f"#triage-{post.pk}")


@require_GET
def report_view(request):
    form = ReportRangeForm(request.GET or None)
    start = end = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return render(request, "web/report.html", {
        "form": form, "rows": channel_report(start, end), "start": start, "end": end,
    })
