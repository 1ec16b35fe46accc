"""The case page's composer and case properties: guideline checks before sending,
saved replies, priority, tags and assignee. Thin views, like those in views.py."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from socialdesk.cases import actions
from socialdesk.cases.guidelines import Finding
from socialdesk.cases.queries import access_case
from socialdesk.cases.saved_replies import render_saved_reply, saved_replies_for
from socialdesk.connectors import channels
from socialdesk.web.forms import (
    AcknowledgeCheckForm,
    AcknowledgeForm,
    AssignForm,
    CheckForm,
    PriorityForm,
    ReplyForm,
    TagsForm,
)
from socialdesk.web.views import case_page, form_action, form_errors


def _checked(request, case, findings: list[Finding], prefix: str, field_name: str,
             full_page: dict, error: str = ""):
    """htmx: the findings for the composer to show in place. Without script the Check
    button posts the whole form: the page again, the draft kept, the findings shown."""
    if request.htmx:
        return render(request, "web/_case_check.html", {
            "findings": findings, "prefix": prefix, "field_name": field_name,
            "error": error})
    if error:
        messages.error(request, error)
    return case_page(request, case, findings=findings, findings_for=prefix, **full_page)


@require_POST
def check_reply_view(request, case_id: int):
    case = access_case(request.user, case_id)
    form = CheckForm(request.POST)
    if not form.is_valid():
        return _checked(request, case, [], "reply", "confirm_warnings",
                        {"reply_form": ReplyForm(request.POST)}, form_errors(form))
    data = form.cleaned_data
    findings = actions.reply_findings(case, data["text"], data["visibility"])
    return _checked(request, case, findings, "reply", "confirm_warnings",
                    {"reply_form": ReplyForm(request.POST)})


@require_POST
def check_acknowledge_view(request, case_id: int):
    case = access_case(request.user, case_id)
    form = AcknowledgeCheckForm(request.POST, prefix="ack")
    full_page = {"ack_form": AcknowledgeForm(request.POST, prefix="ack")}
    if not form.is_valid():
        return _checked(request, case, [], "ack", "ack-confirm_warnings", full_page,
                        form_errors(form))
    facts = channels.channel(case.channel)
    if not facts.private_messages:
        return _checked(request, case, [], "ack", "ack-confirm_warnings", full_page,
                        f"{facts.label} has no private messages: reply publicly instead.")
    drafts = [("Private message", form.cleaned_data["private_text"], "private")]
    if facts.public_replies:
        drafts.insert(0, ("Public acknowledgement", form.cleaned_data["public_text"], "public"))
    return _checked(request, case, _merged(case, drafts), "ack", "ack-confirm_warnings",
                    full_page)


def _merged(case, drafts) -> list[Finding]:
    """Both texts' findings, each labelled; a check both break is one finding (one
    checkbox confirms it for both, as sending does)."""
    merged: dict[str, Finding] = {}
    for label, text, visibility in drafts:
        for found in actions.reply_findings(case, text, visibility):
            seen = merged.get(found.check) or Finding(found.check, False, "", "")
            merged[found.check] = Finding(
                found.check, found.blocking or seen.blocking,
                " ".join(m for m in (seen.message, f"{label}: {found.message}") if m),
                "; ".join(e for e in (seen.evidence, found.evidence) if e))
    return list(merged.values())


@require_GET
def saved_reply_text_view(request, case_id: int, saved_id: int):
    """The saved reply's text filled in for this case, for the composer to insert."""
    case = access_case(request.user, case_id)
    saved = next((s for s in saved_replies_for(case, request.user) if s.pk == saved_id), None)
    if saved is None:
        return JsonResponse({"detail": "No such saved reply for this case."}, status=404)
    try:
        text = render_saved_reply(saved, case, request.user)
    except actions.ActionError as e:
        return JsonResponse({"detail": f"The saved reply “{saved.name}” cannot be used: {e}"},
                            status=422)
    return JsonResponse({"id": saved.pk, "name": saved.name, "text": text})


def _back(case):
    return redirect(reverse("web:case", args=[case.pk]) + "#properties-h")


@require_POST
def priority_view(request, case_id: int):
    case = access_case(request.user, case_id)
    before = case.priority

    def set_priority(data):
        actions.do_set_priority(case, data["priority"], request.user)
        return f"{case.ref} is now {case.priority}." if case.priority != before else None

    form_action(request, PriorityForm(request.POST, case=case), set_priority)
    return _back(case)


@require_POST
def tags_view(request, case_id: int):
    case = access_case(request.user, case_id)

    def change_tags(data):
        tags = actions.do_change_tags(case, request.user, add=data["add"],
                                      remove=[data["remove"]] if data["remove"] else [])
        return "Tags: " + (", ".join(tags) or "none") + "."

    form_action(request, TagsForm(request.POST), change_tags)
    return _back(case)


@require_POST
def assign_view(request, case_id: int):
    case = access_case(request.user, case_id)

    def assign(data):
        assignee = data["assignee"]
        actions.check_assign(case, assignee, request.user)
        return (f"{case.ref} is assigned to {assignee.username}." if assignee
                else f"{case.ref} is back in the team's queue.")

    form_action(request, AssignForm(request.POST, case=case), assign)
    return _back(case)
