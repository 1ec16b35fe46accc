"""Contact pages: the list, the profile, notes, tags, merging, the customer import,
and data-subject requests. Thin views: access_*, a form, one action, a page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socialdesk.cases.queries import is_admin
from socialdesk.contacts import queries
from socialdesk.contacts.actions import ContactError, do_add_contact_note
from socialdesk.contacts.charts import sentiment_chart
from socialdesk.contacts.customers import do_import_customers
from socialdesk.contacts.forms import (
    ContactNoteForm,
    ContactSearchForm,
    CustomerImportForm,
    DecisionForm,
    EraseForm,
    MergeForm,
    RemoveTagForm,
    TagForm,
)
from socialdesk.contacts.merging import do_decide_suggestion, do_merge_contacts, do_unmerge
from socialdesk.contacts.privacy import do_erase_contact, do_record_export, export_json
from socialdesk.contacts.tags import COMPUTED, LABELS, do_add_tag, do_remove_tag
from socialdesk.web.views import form_action, form_errors

PER_PAGE = 50
POSTS_PER_PAGE = 25


def may_export(user) -> bool:
    return user.is_supervisor_or_admin or user.is_superuser


def _profile(contact_id: int, anchor: str = "") -> HttpResponse:
    url = reverse("contacts:profile", args=[contact_id])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_GET
def list_view(request):
    form = ContactSearchForm(request.GET or None)
    text = tag = ""
    if form.is_bound and form.is_valid():
        text, tag = form.cleaned_data["q"], form.cleaned_data["tag"]
    contacts = queries.search_contacts(request.user, text, tag)
    page = Paginator(contacts, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "contacts/list.html", {
        "form": form, "page": page, "q": text, "tag": tag, "labels": LABELS,
        "computed": COMPUTED, "pending": queries.pending_suggestions(request.user).count(),
    })


@require_GET
def profile_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)
    if contact.merged_into_id:
        messages.info(request, f"Contact {contact.pk} was merged into this one.")
        return _profile(contact.merged_into_id)
    weeks = queries.sentiment_by_week(contact)
    posts = Paginator(queries.interactions(contact), POSTS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "contacts/profile.html", {
        "contact": contact,
        "identities": queries.identities_of(contact),
        "cases": queries.cases_of(contact),
        "visible_cases": queries.visible_case_ids(request.user, contact),
        "posts": posts,
        "weeks": weeks,
        "chart": sentiment_chart(weeks),
        "notes": contact.notes.select_related("author"),
        "labels": LABELS,
        "computed": COMPUTED,
        "suggestions": queries.pending_suggestions(request.user, contact),
        "merges": queries.merges_into(contact),
        "note_form": ContactNoteForm(),
        "tag_form": TagForm(),
        "merge_form": MergeForm(),
        "may_export": may_export(request.user),
        "may_erase": is_admin(request.user),
    })


@require_POST
def note_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)

    def add_note(data):
        do_add_contact_note(contact, request.user, data["text"])
        return "Note added."

    form_action(request, ContactNoteForm(request.POST), add_note, (ContactError,))
    return _profile(contact.pk, "notes-h")


@require_POST
def tag_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)

    def tag(data):
        do_add_tag(contact, data["tag"], request.user)
        return f"Tagged “{data['tag']}”."

    form_action(request, TagForm(request.POST), tag, (ContactError,))
    return _profile(contact.pk, "tags-h")


@require_POST
def untag_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)

    def untag(data):
        do_remove_tag(contact, data["tag"], request.user)
        return f"Tag “{data['tag']}” removed."

    form_action(request, RemoveTagForm(request.POST), untag, (ContactError,))
    return _profile(contact.pk, "tags-h")


@require_POST
def merge_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _profile(contact.pk, "merge-h")
    try:
        other = queries.access_contact(request.user, form.cleaned_data["other"])
    except Http404:
        messages.error(request, f"There is no contact {form.cleaned_data['other']} you may see.")
        return _profile(contact.pk, "merge-h")
    try:
        merge = do_merge_contacts(contact, other, request.user)
        messages.success(request, f"Contact {merge.source_id} merged into this one: "
                                  f"{_moved(merge.moved)}.")
    except ContactError as e:
        messages.error(request, str(e))
    return _profile(contact.pk, "merge-h")


def _moved(moved: dict) -> str:
    return ", ".join(f"{len(moved.get(k, []))} {k}" for k in ("identities", "cases", "notes"))


@require_POST
def unmerge_view(request, merge_id: int):
    merge = queries.access_merge(request.user, merge_id)
    try:
        do_unmerge(merge, request.user)
        messages.success(request, f"Merge undone: contact {merge.source_id} is on its own again.")
    except ContactError as e:
        messages.error(request, str(e))
    return _profile(merge.target_id, "merge-h")


@require_GET
def suggestions_view(request):
    suggestions = queries.pending_suggestions(request.user).order_by("-created_at", "-id")
    page = Paginator(suggestions, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "contacts/suggestions.html", {"page": page})


@require_POST
def decide_view(request, suggestion_id: int):
    suggestion = queries.access_suggestion(request.user, suggestion_id)
    form = DecisionForm(request.POST)
    merge = None
    if form.is_valid():
        try:
            merge = do_decide_suggestion(suggestion, form.cleaned_data["decision"] == "accept",
                                         request.user)
            messages.success(request, f"Merged: {_moved(merge.moved)} moved to contact "
                                      f"{merge.target_id}." if merge else
                             "Suggestion rejected: this pair will not be proposed again.")
        except ContactError as e:
            messages.error(request, str(e))
    else:
        messages.error(request, form_errors(form))
    if form.is_valid() and form.cleaned_data["next"] == "profile":
        return _profile(merge.target_id if merge else suggestion.contact_a_id, "merge-h")
    return redirect("contacts:suggestions")


@require_http_methods(["GET", "POST"])
def import_view(request):
    if not is_admin(request.user):
        raise PermissionDenied("Only admins import the customer database.")
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = do_import_customers(form.cleaned_data["file"], actor=request.user,
                                         dry_run=form.cleaned_data["dry_run"])
        else:
            status = 422
    return render(request, "contacts/import.html", {"form": form, "result": result},
                  status=status)


@require_GET
def export_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)
    if not may_export(request.user):
        raise PermissionDenied("Only supervisors and admins export a contact's data.")
    response = HttpResponse(export_json(do_record_export(contact, request.user, via="web")),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@require_http_methods(["GET", "POST"])
def erase_view(request, contact_id: int):
    contact = queries.access_contact(request.user, contact_id)
    if not is_admin(request.user):
        raise PermissionDenied("Only admins erase a contact.")
    form = EraseForm(request.POST or None, contact_id=contact.pk)
    if request.method == "POST" and form.is_valid():
        try:
            counts = do_erase_contact(contact, request.user)
        except ContactError as e:
            messages.error(request, str(e))
            return _profile(contact.merged_into_id or contact.pk)
        messages.success(request, f"Contact {contact.pk} erased: {counts['posts']} posts, "
                                  f"{counts['identities']} identities, {counts['cases']} cases "
                                  "redacted.")
        return _profile(contact.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "contacts/erase.html", {"contact": contact, "form": form},
                  status=status)
