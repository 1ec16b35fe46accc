"""The person's own notifications: a page, mark-read, and an unread count for a badge."""

from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from socialdesk.notifications.actions import do_mark_read
from socialdesk.notifications.queries import notifications_for, unread_count

PER_PAGE = 50


def _whole_number(value: str) -> bool:
    return value.isascii() and value.isdigit()


@require_GET
def list_view(request):
    page = Paginator(notifications_for(request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_POST
def read_view(request):
    """Marks the posted ids read, or every unread notification when none is posted.
    Ids of other people's notifications match nothing (see do_mark_read)."""
    ids = request.POST.getlist("id")
    if not all(_whole_number(i) for i in ids):
        return HttpResponseBadRequest("id must be a whole number")
    do_mark_read(request.user, [int(i) for i in ids] if ids else None)
    url = reverse("notifications:list")
    page = request.POST.get("page", "")
    return redirect(f"{url}?page={page}" if _whole_number(page) else url)


@require_GET
@never_cache
def count_view(request):
    """An htmx badge fragment, or {"unread": n} for anything else."""
    unread = unread_count(request.user)
    if request.htmx:
        response = render(request, "notifications/_count.html", {"unread": unread})
    else:
        response = JsonResponse({"unread": unread})
    patch_vary_headers(response, ["HX-Request"])
    return response
