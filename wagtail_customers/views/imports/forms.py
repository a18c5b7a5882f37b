"""The upload form. Field names follow django-import-export's ``ImportForm`` (``import_file``, ``format``)."""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from ...ids import IdModelChoiceField
from ...importers import FORMATS
from ...importers.base import MAX_FILE_BYTES, time_zone_note
from ...permissions import Action, accounts_for

ENCODINGS = [
    ("utf-8", _("UTF-8 (Shopify, Amazon, Excel's 'CSV UTF-8')")),
    ("cp1252", _("Windows Western European (cp1252, Excel's plain 'CSV')")),
    ("latin-1", _("ISO-8859-1 (Latin-1)")),
    ("utf-16", _("UTF-16 (Excel's 'Unicode text')")),
]


class ImportForm(forms.Form):
    account = IdModelChoiceField(
        label=_("Seller account"),
        queryset=None,
        empty_label=None,
        help_text=_("The orders are added to this seller account's customers."),
    )
    format = forms.ChoiceField(label=_("File layout"), help_text=_("Where the file comes from."))
    import_file = forms.FileField(
        label=_("File to import"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx"}),
    )
    encoding = forms.ChoiceField(
        label=_("Text encoding"),
        choices=ENCODINGS,
        initial="utf-8",
        help_text=_("For CSV and text files only. If the preview complains about the encoding, choose another."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_for(user, Action.IMPORT).order_by("name")
        self.fields["format"].choices = [(name, fmt.label) for name, fmt in FORMATS.items()]
        # Two sentences, each translated: the file's kinds and size, and how its times are read.
        self.fields["import_file"].help_text = " ".join(
            (
                _("CSV, tab-separated text or Excel (.xlsx), up to %(size)s.")
                % {"size": filesizeformat(MAX_FILE_BYTES)},
                time_zone_note(),
            )
        )

    def clean_import_file(self):
        uploaded = self.cleaned_data["import_file"]
        if uploaded.size == 0:
            raise forms.ValidationError(_("The file is empty (0 bytes)."))
        if uploaded.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s.") % {"size": filesizeformat(MAX_FILE_BYTES)}
            )
        return uploaded
