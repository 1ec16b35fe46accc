from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from socialdesk.triage.actions import do_activate_policy, do_install_policy, refuse_if_used
from socialdesk.triage.forms import policy_upload_text
from socialdesk.triage.models import ResponsePolicy, Topic
from socialdesk.triage.policy import DEFAULT_POLICY_PATH, PolicyError, parse_policy
from socialdesk.triage.queries import topic_uses
from socialdesk.triage.topics import TopicError, check_topic, spec_from


class NewPolicyVersionForm(forms.ModelForm):
    """A new version from pasted YAML or an uploaded .yaml file, checked as `install` checks it."""

    source = forms.CharField(
        required=False, label="Policy (YAML)",
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false",
                                     "style": "font-family: monospace"}),
        help_text="Edit the active policy shown here, or paste a whole policy. "
                  "docs/TRIAGE.md describes the fields.")
    upload = forms.FileField(required=False, label="…or upload a .yaml file",
                             help_text="Used instead of the text above when given.")

    class Meta:
        model = ResponsePolicy
        fields = ["source"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload:
            try:
                cleaned["source"] = policy_upload_text(upload)
            except forms.ValidationError as e:
                self.add_error("upload", e)
                return cleaned
        source = cleaned.get("source") or ""
        if not source.strip():
            raise forms.ValidationError("Paste a policy or upload a .yaml file.")
        try:
            parse_policy(source, known_topics=set(Topic.objects.values_list("slug", flat=True)))
        except PolicyError as e:
            self.add_error("upload" if upload else "source", str(e))
        return cleaned


@admin.register(ResponsePolicy)
class ResponsePolicyAdmin(admin.ModelAdmin):
    """Policy versions are kept as written: a change is a new version, so the
    decisions stored under an old one can always be explained. Adding a
    version installs and activates it, as `socialdesk policy install` does."""

    list_display = ("version", "name", "is_active", "created_at", "created_by", "download")
    list_display_links = ("version", "name")
    readonly_fields = ("version", "name", "is_active", "created_at", "created_by", "download",
                       "source")
    fields = readonly_fields
    actions = ["activate_version"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # stored versions are read-only; admins see them in full

    def has_activate_permission(self, request):
        return request.user.has_perm("triage.add_responsepolicy")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = NewPolicyVersionForm
            kwargs["fields"] = ["source", "upload"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["source", "upload"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        active = ResponsePolicy.objects.filter(is_active=True).values_list("source", flat=True)
        return {"source": active.first() or DEFAULT_POLICY_PATH.read_text()}

    def save_model(self, request, obj, form, change):
        # The same action as the command line: a new version, active, in the audit log.
        installed = do_install_policy(form.cleaned_data["source"], actor=request.user)
        obj.pk = installed.pk
        obj.__dict__.update({f.attname: getattr(installed, f.attname)
                             for f in ResponsePolicy._meta.concrete_fields})
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # no relations to save, and the row was written by the action

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Version {obj.version} ({obj.name}) is installed and active.",
                          messages.SUCCESS)
        return super().response_post_save_add(request, obj)

    @admin.action(description="Activate the selected version", permissions=["activate"])
    def activate_version(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        try:
            row = do_activate_policy(chosen[0].version, actor=request.user)
        except PolicyError as e:
            self.message_user(request, str(e), messages.ERROR)
            return
        self.message_user(request, f"Version {row.version} ({row.name}) is active.",
                          messages.SUCCESS)

    @admin.display(description="YAML")
    def download(self, obj):
        url = reverse("admin:triage_responsepolicy_download", args=[obj.pk])
        return format_html('<a href="{}" download>download v{}</a>', url, obj.version)

    def get_urls(self):
        return [
            path("<int:pk>/yaml/", self.admin_site.admin_view(self.download_view),
                 name="triage_responsepolicy_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        row = get_object_or_404(ResponsePolicy, pk=pk)
        response = HttpResponse(row.source, content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="policy-v{row.version}.yaml"'
        return response


class TopicForm(forms.ModelForm):
    """Checked as `socialdesk topics import` checks a topic; lines are tidied on save."""

    class Meta:
        model = Topic
        fields = ["slug", "name", "keywords", "examples", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        keywords = [line for line in cleaned.get("keywords", "").splitlines() if line.strip()]
        examples = [line for line in cleaned.get("examples", "").splitlines() if line.strip()]
        problems = check_topic(cleaned.get("slug"), cleaned.get("name"), keywords, examples)
        if problems:
            raise forms.ValidationError(problems)
        if self.instance.pk and self.instance.slug != cleaned["slug"]:
            try:
                refuse_if_used([self.instance.slug], "rename")
            except TopicError as e:
                raise forms.ValidationError(str(e)) from None
        spec = spec_from(cleaned["slug"], cleaned["name"], keywords, examples)
        cleaned["name"] = spec.name
        cleaned["keywords"] = "\n".join(spec.keywords)
        cleaned["examples"] = "\n".join(spec.examples)
        return cleaned


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """The brand's topics. A change reaches triage with the next batch of posts
    (triage.queries.active_topics); `socialdesk topics import` edits them in bulk."""

    form = TopicForm
    list_display = ("slug", "name", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("slug", "name", "keywords", "examples")
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request, obj=None):
        # A topic the policy or a routing rule names is kept: without it their
        # tests could never hold. The delete page lists it as not deletable.
        if obj is not None and obj.slug in topic_uses():
            return False
        return super().has_delete_permission(request, obj)
