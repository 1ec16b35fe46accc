"""The response policy in the desk: supervisors and admins read it and its versions;
admins check, simulate, install and activate versions, through the same actions as
`socialdesk policy` and the Django admin."""

import difflib

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socialdesk.accounts.models import User
from socialdesk.cases.queries import is_admin
from socialdesk.triage.actions import active_policy, do_activate_policy, do_install_policy
from socialdesk.triage.forms import policy_upload_text
from socialdesk.triage.models import ResponsePolicy, Topic, Triage
from socialdesk.triage.policy import (
    ANY_ACCOUNT,
    SEVERITY_LEVELS,
    SUPERVISOR,
    Policy,
    PolicyError,
    parse_policy,
)
from socialdesk.triage.simulate import simulate_stored

DENIED = "Only supervisors and admins see the response policy; ask your supervisor."
EDIT_DENIED = "Only admins change the response policy; ask an admin."
MAX_SOURCE_CHARS = 1024 * 1024
LIMITS = {"1000": 1000, "10000": 10_000, "all": None}
DEFAULT_LIMIT = "10000"
CHANGE_TITLES = {"decision": "Decision", "priority": "Priority", "reply_mode": "Reply mode",
                 "owner": "Owner team"}


def may_view_policy(user: User) -> bool:
    return user.is_active and (is_admin(user) or user.role == User.Role.SUPERVISOR)


class PolicySourceForm(forms.Form):
    """A candidate policy, typed or uploaded, and what to do with it."""

    source = forms.CharField(
        required=False, strip=False, max_length=MAX_SOURCE_CHARS, label="Policy (YAML)",
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false",
                                     "class": "policy-source"}),
        help_text="The active policy; change it here or paste a whole policy. "
                  "docs/TRIAGE.md describes every field.")
    upload = forms.FileField(
        required=False, label="Or upload a .yaml file",
        widget=forms.FileInput(attrs={"accept": ".yaml,.yml"}),
        help_text="Used instead of the text above when given (1 MB at most).")
    limit = forms.ChoiceField(
        required=False, label="Simulate on",
        choices=[("1000", "the 1,000 most recent posts"),
                 ("10000", "the 10,000 most recent posts"),
                 ("all", "all stored posts")],
        error_messages={"invalid_choice": "Simulate on 1,000, 10,000 or all stored posts."})
    action = forms.ChoiceField(
        choices=[("check", "Check"), ("simulate", "Simulate"), ("install", "Install")],
        error_messages={"required": "Choose Check, Simulate or Install.",
                        "invalid_choice": "Choose Check, Simulate or Install."})

    def clean_source(self) -> str:
        # Browsers send a textarea's line breaks as CR LF; the stored version keeps LF.
        return self.cleaned_data["source"].replace("\r\n", "\n")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload:
            try:
                text = policy_upload_text(upload)
            except forms.ValidationError as e:
                self.add_error("upload", e)
                return cleaned
            cleaned["source"] = text
            # The page shows the uploaded text in the box, ready for the next step.
            self.data = self.data.copy()
            self.data["source"] = text
        if "source" in cleaned and not cleaned["source"].strip():
            self.add_error("source", "Paste a policy or upload a .yaml file.")
        return cleaned

    def posts_limit(self) -> int | None:
        return LIMITS[self.cleaned_data.get("limit") or DEFAULT_LIMIT]


def _denied(request, why: str):
    return render(request, "web/policy.html", {"denied": why}, status=403)


@require_GET
def policy_view(request):
    if not may_view_policy(request.user):
        return _denied(request, DENIED)
    policy = active_policy()
    versions = _versions()
    return render(request, "web/policy.html", {
        "active": next(row for row in versions if row.version == policy.version),
        "severity": _severity(policy),
        "rules": _rules(policy),
        "adjustments": _adjustments(policy),
        "approvals": _approvals(policy),
        "versions": versions,
        "may_edit": is_admin(request.user),
    })


@require_GET
def policy_version_view(request, version: int):
    if not may_view_policy(request.user):
        return _denied(request, DENIED)
    row = get_object_or_404(ResponsePolicy.objects.select_related("created_by"), version=version)
    current = active_policy()
    return render(request, "web/policy_version.html", {
        "row": row,
        "current": current,
        "diff": _diff(current, row.source, f"version {row.version}"),
        "decided": Triage.objects.filter(policy_version=row.version).count(),
        "may_edit": is_admin(request.user),
    })


@require_GET
def policy_download_view(request, version: int):
    if not may_view_policy(request.user):
        return _denied(request, DENIED)
    row = get_object_or_404(ResponsePolicy, version=version)
    response = HttpResponse(row.source, content_type="text/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="policy-v{row.version}.yaml"'
    return response


@require_POST
def policy_activate_view(request, version: int):
    if not is_admin(request.user):
        return _denied(request, EDIT_DENIED)
    row = get_object_or_404(ResponsePolicy, version=version)
    before = active_policy().version
    try:
        row = do_activate_policy(row.version, actor=request.user)
    except PolicyError as e:
        messages.error(request, f"Version {version} was not activated: {e}")
        return redirect("web:policy")
    if row.version == before:
        messages.success(request, f"Version {row.version} ({row.name}) is already active.")
    else:
        messages.success(request, f"Version {row.version} ({row.name}) is now active "
                                  f"(was version {before}).")
    return redirect("web:policy")


@require_http_methods(["GET", "POST"])
def policy_edit_view(request):
    if not is_admin(request.user):
        return _denied(request, EDIT_DENIED)
    if request.method == "GET":
        return _edit_page(request, PolicySourceForm(
            initial={"source": active_policy().source, "limit": DEFAULT_LIMIT}))
    form = PolicySourceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _edit_page(request, form, status=422)
    source, action = form.cleaned_data["source"], form.cleaned_data["action"]
    if action == "install":
        try:
            row = do_install_policy(source, actor=request.user)
        except PolicyError as e:
            return _edit_page(request, form, status=422, error=str(e))
        messages.success(request, f"Version {row.version} ({row.name}) is installed and "
                                  "active; new posts are triaged under it.")
        return redirect("web:policy")
    try:
        candidate = parse_policy(source, known_topics=_topics())
    except PolicyError as e:
        return _edit_page(request, form, status=422, error=str(e))
    current = active_policy()
    report = None
    if action == "simulate":
        limit = form.posts_limit()
        report = _report(simulate_stored(current, candidate, limit=limit), limit)
    return _edit_page(request, form, candidate=candidate, report=report,
                      diff=_diff(current, source, "the text above"))


def _topics() -> set[str]:
    # Installing checks the policy's topics against the desk's; a check must say the same.
    return set(Topic.objects.values_list("slug", flat=True))


def _edit_page(request, form, status: int = 200, **context):
    return render(request, "web/policy_edit.html",
                  {"form": form, "current": active_policy(), **context}, status=status)


# --------------------------------------------------------------------------
# What the pages show, worked out from the policy and the stored versions
# --------------------------------------------------------------------------

def _versions() -> list[ResponsePolicy]:
    """Every stored version, newest first, each with the number of stored decisions
    made under it."""
    decided = dict(Triage.objects.order_by().values("policy_version")
                   .annotate(n=Count("pk")).values_list("policy_version", "n"))
    rows = list(ResponsePolicy.objects.select_related("created_by").order_by("-version"))
    for row in rows:
        row.decided = decided.get(row.version, 0)
    return rows


def target(minutes: int | None) -> str:
    """A first-response target as the policy's authors write it: 30 min, 4 h, 2 d."""
    if minutes is None:
        return "no target"
    if minutes < 60 or minutes % 60:
        return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
    if minutes > 1440 and minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    return f"{minutes // 60} h"


def _words(value: str) -> str:
    return value.replace("_", " ")


def _severity(policy: Policy) -> dict:
    """The severity modifiers in words."""
    accounts = sorted(policy.s2_accounts)
    if ANY_ACCOUNT in accounts:
        on_account = "any of the brand's own accounts"
    elif accounts:
        on_account = "the brand's account " + " or ".join(f"@{a}" for a in accounts)
    else:
        on_account = ""
    spike = policy.volume_spike
    watched = []
    if spike and spike.topics:
        watched.append("any brand topic")
    if spike and spike.cues:
        watched.append(("the cue " if len(spike.cues) == 1 else "the cues ")
                       + ", ".join(sorted(spike.cues)))
    return {
        "s3_cues": sorted(policy.s3_cues), "s2_tiers": sorted(policy.s2_tiers),
        "high_reach_followers": f"{policy.high_reach_followers:,}", "on_account": on_account,
        "spike": spike and {
            "window": target(spike.window_minutes), "baseline": target(spike.baseline_minutes),
            "factor": f"{spike.factor:g}", "min_posts": spike.min_posts,
            "watched": " and ".join(watched)},
    }


def _rules(policy: Policy) -> list[dict]:
    """Each rule's outcome at S1, and per severity the priority, the target and what
    else differs from S1 (a rule may escalate or change owner at S3)."""
    rows = []
    for rule in policy.rules:
        first = rule.outcome(1)
        levels = []
        for level in SEVERITY_LEVELS:
            outcome = rule.outcome(level)
            also = []
            if outcome.decision != first.decision:
                also.append(outcome.decision)
            if outcome.reply_mode != first.reply_mode:
                also.append(f"reply {_words(outcome.reply_mode)}")
            if outcome.owner != first.owner:
                also.append(f"owner {outcome.owner}")
            levels.append({"level": level, "priority": outcome.priority,
                           "target": target(outcome.first_response_minutes),
                           "also": ", ".join(also)})
        rows.append({
            "name": rule.name, "extends": rule.extends,
            "when": rule.condition.description if rule.condition else "any post no rule "
                                                                       "above took",
            "decision": first.decision, "reply_mode": _words(first.reply_mode),
            "owner": first.owner, "levels": levels,
        })
    return rows


def _adjustments(policy: Policy) -> list[dict]:
    rows = []
    for adjustment in policy.adjustments:
        changes = []
        for key, value in adjustment.set.items():
            if key == "priority_at_least":
                changes.append(f"priority at least {value}")
            elif key == "first_response":
                changes.append(f"first response {target(value)}")
            else:
                changes.append(f"{_words(key)} {_words(str(value))}")
        rows.append({"name": adjustment.name,
                     "when": adjustment.condition.description if adjustment.condition
                     else "always",
                     "changes": "; ".join(changes)})
    return rows


def _approvals(policy: Policy) -> list[dict]:
    rows = []
    for approval in policy.approvals:
        tests = [approval.condition.description] if approval.condition else []
        if approval.rules:
            tests.insert(0, "rule " + " or ".join(sorted(approval.rules)))
        rows.append({"name": approval.name, "when": " and ".join(tests),
                     "by": "the case team's supervisor" if approval.by == SUPERVISOR
                     else f"a member of {approval.by}"})
    return rows


def _diff(current: Policy, source: str, name: str) -> list[dict]:
    """The unified diff from the active version's YAML to `source`, a line at a time,
    each with its kind for the page to mark; empty when they are the same."""
    lines = difflib.unified_diff(current.source.splitlines(), source.splitlines(),
                                 f"version {current.version} (active)", name, lineterm="")
    shown = []
    for number, line in enumerate(lines):
        if number < 2:
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "added"
        elif line.startswith("-"):
            kind = "removed"
        else:
            kind = "context"
        shown.append({"kind": kind, "text": line})
    return shown


def _signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def _report(report: dict, limit: int | None) -> dict:
    """simulate_stored's report with what its tables show worked out: the share that
    changes, and each queue's and target's change."""
    posts = report["posts"]
    return {
        **report,
        "scope": "all stored posts" if limit is None else f"the {limit:,} most recent posts",
        "share": f"{report['changed'] / posts:.1%}" if posts else "",
        "change_tables": [{"name": name, "title": title, "rows": report["changes"][name]}
                          for name, title in CHANGE_TITLES.items()],
        "queues": [{**row, "change": _signed(row["candidate"] - row["current"])}
                   for row in report["queues"]],
        "sla": [{**row, "change": _signed(row["candidate"] - row["current"])}
                for row in report["sla"]],
        "examples": [{**example, "sides": [example["current"], example["candidate"]]}
                     for example in report["examples"]],
    }
