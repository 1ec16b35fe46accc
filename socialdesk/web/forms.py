from datetime import timedelta

from django import forms

from socialdesk.cases import guidelines
from socialdesk.cases.actions import NOTE_MAX_CHARS as CASE_NOTE_MAX_CHARS
from socialdesk.cases.approvals import COMMENT_MAX_CHARS
from socialdesk.cases.followups import ACTION_MAX_CHARS, FollowUpSpec
from socialdesk.cases.models import Case, FollowUp, Note
from socialdesk.triage.feedback import CATEGORIES, DECISIONS, NOTE_MAX_CHARS, SENTIMENTS

REPLY_MAX_CHARS = 20_000
MAX_HOURS = 90 * 24
CHECKS = [(c, c.replace("_", " ")) for c in (
    guidelines.CULPABILITY, guidelines.PERSONAL_DATA, guidelines.NO_ACKNOWLEDGEMENT,
    guidelines.TOO_LONG, guidelines.LINK_NOT_ALLOWED, guidelines.EMPTY)]


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
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=REPLY_MAX_CHARS,
                           label="Reply")
    visibility = forms.ChoiceField(choices=[("public", "Public reply"),
                                            ("private", "Private message")],
                                   label="Send as")
    # Guideline warnings the author read and sends anyway.
    confirm_warnings = forms.MultipleChoiceField(choices=CHECKS, required=False,
                                                 widget=forms.CheckboxSelectMultiple)

    field_order = ["text", "visibility"]


class AcknowledgeForm(FollowUpFields):
    public_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                  max_length=REPLY_MAX_CHARS, label="Public acknowledgement")
    private_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
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
