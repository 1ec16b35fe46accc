from django import forms

from socialdesk.cases.models import Case
from socialdesk.triage.feedback import CATEGORIES, DECISIONS, NOTE_MAX_CHARS, SENTIMENTS


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000,
                           label="Reply")
    visibility = forms.ChoiceField(choices=[("public", "Public reply"),
                                            ("private", "Private message")],
                                   label="Send as")


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
