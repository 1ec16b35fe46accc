"""The inbox: queues, filters, search and bulk actions over the cases a user may see."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from socialdesk.cases.queries import INBOX_VIEWS, inbox


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
