from datetime import timedelta

from django import forms
from django.db.models import Q

from socialdesk.accounts.models import User
from socialdesk.cases import guidelines
from socialdesk.cases.actions import MAX_TAGS, PRIORITIES, TAG_MAX_CHARS, ActionError
from socialdesk.cases.approvals import COMMENT_MAX_CHARS
from socialdesk.cases.followups import ACTION_MAX_CHARS, FollowUpSpec
from socialdesk.cases.models import Case, FollowUp, Note, SavedReply
from socialdesk.cases.notes import NOTE_MAX_CHARS as CASE_NOTE_MAX_CHARS
from socialdesk.cases.saved_replies import VARIABLES, check_text
from socialdesk.triage.feedback import CATEGORIES, DECISIONS, NOTE_MAX_CHARS, SENTIMENTS

REPLY_MAX_CHARS = 20_000
MAX_HOURS = 90 * 24
CHECKS = [(c, c.replace("_", " ")) for c in (
    guidelines.CULPABILITY, guidelines.PERSONAL_DATA, guidelines.NO_ACKNOWLEDGEMENT,
    guidelines.TOO_LONG, guidelines.LINK_NOT_ALLOWED, guidelines.EMPTY)]


class DraftField(forms.CharField):
    """Reply text as typed: browsers send a textarea's line breaks as CR LF, which would
    count twice against the channel's limit and differ from the live counter."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class FollowUpFields(forms.Form):
    """An optional follow-up on a reply: what the customer should do, by when."""

    follow_up_action = forms.CharField(
        required=False, max_length=ACTION_MAX_CHARS, label="Then wait for the customer to",
        help_text="e.g. DM us their order number; leave empty for no follow-up")
    follow_up_hours = forms.IntegerField(required=False, min_value=1, max_value=MAX_HOURS,
                                         label="Within (hours)")
    follow_up_on_expiry = forms.ChoiceField(choices=FollowUp.OnExpiry.choices, required=False,
                                            initial=FollowUp.OnExpiry.REMIND,
                                            label="If they have not by then")

    def clean(self):
        data = super().clean()
        action, hours = data.get("follow_up_action", "").strip(), data.get("follow_up_hours")
        if action and not hours:
            self.add_error("follow_up_hours", "Say within how many hours.")
        if hours and not action:
            self.add_error("follow_up_action", "Say what the customer should do.")
        return data

    def follow_up_spec(self) -> FollowUpSpec | None:
        action = self.cleaned_data.get("follow_up_action", "").strip()
        if not action:
            return None
        return FollowUpSpec(action, timedelta(hours=self.cleaned_data["follow_up_hours"]),
                            self.cleaned_data["follow_up_on_expiry"] or FollowUp.OnExpiry.REMIND)


class ReplyForm(FollowUpFields):
    text = DraftField(widget=forms.Textarea(attrs={"rows": 4}), max_length=REPLY_MAX_CHARS,
                           label="Reply")
    visibility = forms.ChoiceField(choices=[("public", "Public reply"),
                                            ("private", "Private message")],
                                   label="Send as")
    # Guideline warnings the author read and sends anyway.
    confirm_warnings = forms.MultipleChoiceField(choices=CHECKS, required=False,
                                                 widget=forms.CheckboxSelectMultiple)

    field_order = ["text", "visibility"]


class AcknowledgeForm(FollowUpFields):
    public_text = DraftField(widget=forms.Textarea(attrs={"rows": 3}),
                                  max_length=REPLY_MAX_CHARS, label="Public acknowledgement")
    private_text = DraftField(widget=forms.Textarea(attrs={"rows": 4}),
                                   max_length=REPLY_MAX_CHARS, label="Private message")
    confirm_warnings = forms.MultipleChoiceField(choices=CHECKS, required=False,
                                                 widget=forms.CheckboxSelectMultiple)

    field_order = ["public_text", "private_text"]


class ApproveForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=REPLY_MAX_CHARS,
                           required=False, label="Reply (edit before approving if needed)")


class ReturnForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                              max_length=COMMENT_MAX_CHARS, label="What should change")


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=CASE_NOTE_MAX_CHARS, label="Note",
                           help_text="@name tells a colleague")
    kind = forms.ChoiceField(choices=Note.Kind.choices, initial=Note.Kind.NOTE, label="Kind")


class CheckBackForm(forms.Form):
    action = forms.CharField(max_length=ACTION_MAX_CHARS, initial="Check back with the customer",
                             label="Check back to")
    hours = forms.IntegerField(min_value=1, max_value=MAX_HOURS, initial=72,
                               label="In (hours)")
    on_expiry = forms.ChoiceField(choices=FollowUp.OnExpiry.choices,
                                  initial=FollowUp.OnExpiry.REMIND, label="When it is due")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Case.Status.choices)


class CheckForm(forms.Form):
    """A draft to check against the guidelines without sending it (an empty one is
    a finding, not a form error)."""

    text = DraftField(required=False, max_length=REPLY_MAX_CHARS, strip=False)
    visibility = forms.ChoiceField(choices=[("public", "Public reply"),
                                            ("private", "Private message")])


class AcknowledgeCheckForm(forms.Form):
    public_text = DraftField(required=False, max_length=REPLY_MAX_CHARS, strip=False)
    private_text = DraftField(required=False, max_length=REPLY_MAX_CHARS, strip=False)


PRIORITY_LABELS = {"P0": "P0 (critical)", "P1": "P1 (high)", "P2": "P2 (normal)",
                   "P3": "P3 (low)"}


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label="Priority")

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("initial", {"priority": case.priority})
        super().__init__(*args, **kwargs)
        choices = [(p, PRIORITY_LABELS[p]) for p in PRIORITIES]
        if case.priority not in PRIORITIES:
            # Triage's "monitor only" P4: shown as it is, never set by hand.
            choices.append((case.priority, f"{case.priority} (as triaged)"))
        self.fields["priority"].choices = choices


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                      label="Assignee", empty_label="Nobody (the team's queue)")

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("initial", {"assignee": case.assignee_id})
        super().__init__(*args, **kwargs)
        # The assignee as it stands is offered even when no longer an active member, so
        # that the select shows who has the case and leaving it as it is changes nothing.
        members = Q(teams=case.team_id, is_active=True) if case.team_id else Q(pk__in=[])
        field = self.fields["assignee"]
        field.queryset = (User.objects.filter(members | Q(pk=case.assignee_id))
                          .distinct().order_by("username"))
        field.label_from_instance = lambda u: (f"{u.get_full_name()} ({u.username})"
                                               if u.get_full_name() else u.username)
        field.error_messages["invalid_choice"] = ("Choose an active member of the case's "
                                                  "team.")


class TagsForm(forms.Form):
    """Tags to add (separated by commas or spaces) or one to remove."""

    add = forms.CharField(required=False, max_length=MAX_TAGS * (TAG_MAX_CHARS + 2),
                          label="Add tags", help_text="separate them with commas or spaces")
    remove = forms.CharField(required=False, max_length=TAG_MAX_CHARS * 4)

    def clean_add(self) -> list[str]:
        return [t for t in self.cleaned_data["add"].replace(",", " ").split() if t]

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("add") and not data.get("remove"):
            raise forms.ValidationError("Write a tag to add.")
        return data


class SavedReplyForm(forms.ModelForm):
    """The saved-replies page: a supervisor keeps their teams' saved replies."""

    class Meta:
        model = SavedReply
        fields = ["name", "text", "channel", "lang", "team", "is_active"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}
        labels = {"lang": "Language", "is_active": "Offer it in the composer"}
        help_texts = {
            "text": "Variables: " + ", ".join("{" + name + "}" for name in VARIABLES)
                    + "; write {{ and }} for a literal brace.",
            "channel": "e.g. x, facebook, email; empty: every channel",
            "lang": "e.g. en, pt; empty: every language",
        }

    def __init__(self, *args, teams, any_team: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        field.queryset = teams
        field.required = not any_team
        field.empty_label = "Every team" if any_team else None

    def clean_text(self):
        try:
            return check_text(self.cleaned_data["text"])
        except ActionError as e:
            raise forms.ValidationError(str(e)) from None


class ReportRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class CorrectionForm(forms.Form):
    """One post's triage, as the desk decided it; the fields a person changes are corrections.

    Each select also sends the value it was shown with, so only what this person
    changed is applied, never a stale value over a colleague's newer correction.
    """

    category = forms.ChoiceField(choices=_choices(CATEGORIES), show_hidden_initial=True)
    sentiment = forms.ChoiceField(choices=_choices(SENTIMENTS), show_hidden_initial=True)
    decision = forms.ChoiceField(choices=_choices(DECISIONS), show_hidden_initial=True)
    note = forms.CharField(required=False, max_length=NOTE_MAX_CHARS,
                           widget=forms.TextInput(attrs={"placeholder": "why (optional)"}))

    def __init__(self, *args, triage=None, **kwargs):
        if triage is not None:
            kwargs.setdefault("prefix", f"post{triage.post_id}")
            kwargs.setdefault("initial", {f: getattr(triage, f)
                                          for f in ("category", "sentiment", "decision")})
        super().__init__(*args, **kwargs)

    def changes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in ("category", "sentiment", "decision")
                if name in self.changed_data}
