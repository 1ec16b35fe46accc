"""What the policy forms of the admin and of the desk share."""

from django import forms

MAX_POLICY_UPLOAD_BYTES = 1024 * 1024


def policy_upload_text(upload) -> str:
    """The text of an uploaded policy file; forms.ValidationError says what is wrong."""
    if not upload.name.lower().endswith((".yaml", ".yml")):
        raise forms.ValidationError("Upload a .yaml or .yml file.")
    if upload.size > MAX_POLICY_UPLOAD_BYTES:
        raise forms.ValidationError("The file is over 1 MB; a policy is a few kilobytes.")
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError("The file is not UTF-8 text.") from None
