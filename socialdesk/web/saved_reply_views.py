"""The saved-replies page: supervisors keep their teams' saved replies, admins all."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from socialdesk.cases.actions import ActionError
from socialdesk.cases.models import SavedReply
from socialdesk.cases.queries import is_admin
from socialdesk.cases.saved_replies import (
    VARIABLES,
    access_saved_reply,
    do_delete_saved_reply,
    do_save_saved_reply,
    may_manage_saved_replies,
    saved_replies_managed_by,
    teams_managed_by,
)
from socialdesk.web.forms import SavedReplyForm

DENIED = "Only supervisors and admins manage saved replies; ask your supervisor."


def _form(request, data=None, instance=None) -> SavedReplyForm:
    return SavedReplyForm(data, instance=instance, teams=teams_managed_by(request.user),
                          any_team=is_admin(request.user))


def _denied(request):
    return render(request, "web/saved_replies.html", {"denied": DENIED}, status=403)


def _save(request, form, template: str, context: dict):
    """Validate, save through the action, or show the form again with what was wrong."""
    if form.is_valid():
        try:
            saved = do_save_saved_reply(form.instance, request.user)
        except ActionError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, f"Saved reply “{saved.name}” saved.")
            return redirect("web:saved_replies")
    return render(request, template, {**context, "form": form, "variables": VARIABLES},
                  status=422)


@require_http_methods(["GET", "POST"])
def saved_replies_view(request):
    if not may_manage_saved_replies(request.user):
        return _denied(request)
    rows = saved_replies_managed_by(request.user)
    if request.method == "POST":
        return _save(request, _form(request, request.POST, SavedReply()),
                     "web/saved_replies.html", {"rows": rows})
    return render(request, "web/saved_replies.html",
                  {"rows": rows, "form": _form(request), "variables": VARIABLES})


@require_http_methods(["GET", "POST"])
def saved_reply_view(request, saved_id: int):
    if not may_manage_saved_replies(request.user):
        return _denied(request)
    saved = access_saved_reply(request.user, saved_id)
    if request.method == "POST":
        return _save(request, _form(request, request.POST, saved), "web/saved_reply.html",
                     {"saved": saved})
    return render(request, "web/saved_reply.html",
                  {"saved": saved, "form": _form(request, instance=saved),
                   "variables": VARIABLES})


@require_POST
def saved_reply_delete_view(request, saved_id: int):
    if not may_manage_saved_replies(request.user):
        return _denied(request)
    saved = access_saved_reply(request.user, saved_id)
    try:
        do_delete_saved_reply(saved, request.user)
        messages.success(request, f"Saved reply “{saved.name}” deleted.")
    except ActionError as e:
        messages.error(request, str(e))
    return redirect("web:saved_replies")
