from django import forms

from socialdesk.cases.models import Case


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
