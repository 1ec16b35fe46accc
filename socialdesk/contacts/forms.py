from django import forms

from socialdesk.contacts.actions import NOTE_MAX_CHARS
from socialdesk.contacts.customers import CustomerImportError, read_customers
from socialdesk.contacts.tags import COMPUTED, TAG_MAX_CHARS, TagError, clean_tag

UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class ContactSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Name, handle, e-mail or customer id")
    tag = forms.CharField(required=False, max_length=TAG_MAX_CHARS, label="Tag",
                          widget=forms.TextInput(attrs={"list": "known-tags"}))

    def clean_tag(self):
        return " ".join(self.cleaned_data["tag"].split()).lower()


class ContactNoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=NOTE_MAX_CHARS,
                           label="Note about this person")


class TagForm(forms.Form):
    tag = forms.CharField(max_length=TAG_MAX_CHARS, label="Add a tag")

    def clean_tag(self):
        try:
            return clean_tag(self.cleaned_data["tag"])
        except TagError as e:
            raise forms.ValidationError(str(e)) from None


class RemoveTagForm(forms.Form):
    tag = forms.CharField(max_length=TAG_MAX_CHARS)

    def clean_tag(self):
        tag = " ".join(self.cleaned_data["tag"].split()).lower()
        if tag in COMPUTED:
            raise forms.ValidationError("Computed tags cannot be removed by hand.")
        return tag


class MergeForm(forms.Form):
    other = forms.IntegerField(min_value=1, max_value=2**62,
                               label="Number of the contact to merge into this one",
                               help_text="its identities, cases and notes move here")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Merge"), ("reject", "Not the same person")])
    next = forms.ChoiceField(choices=[("suggestions", "suggestions"), ("profile", "profile")],
                             required=False)


class CustomerImportForm(forms.Form):
    file = forms.FileField(label="Customer file (CSV)",
                           help_text="columns: id, name, email, handles, tier, account_owner")
    dry_run = forms.BooleanField(required=False, label="Dry run: check and count, change nothing")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {UPLOAD_MAX_BYTES:,}. "
                "Import larger files with `socialdesk contacts import`.")
        try:
            return read_customers(upload.read())
        except CustomerImportError as e:
            raise forms.ValidationError([str(e), *e.errors]) from None


class EraseForm(forms.Form):
    confirm = forms.CharField(max_length=20, label="Type the contact's number to confirm")

    def __init__(self, *args, contact_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_id = contact_id

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value != str(self.contact_id):
            raise forms.ValidationError(f"Type {self.contact_id} to confirm the erasure.")
        return value
