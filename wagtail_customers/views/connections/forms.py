"""The connection forms. Secret credentials are write-only: their inputs are always rendered empty, and
left blank they keep the stored value; a stored optional secret (a webhook secret) has a "Remove" box."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from ...local_time import local_datetime


class CredentialsForm(forms.Form):
    """One field per ``CredentialField`` of the channel's adapter."""

    def __init__(self, *args, credential_fields=(), stored=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.credential_fields = credential_fields
        self.stored = stored or {}
        for spec in credential_fields:
            has_value = bool(self.stored.get(spec.name))
            if spec.secret:
                help_text = str(spec.help_text or "")
                if has_value:
                    help_text = (help_text + " " + str(_("Stored. Leave blank to keep it."))).strip()
                field = forms.CharField(
                    label=spec.label,
                    help_text=help_text,
                    # A stored secret is never sent back to the browser.
                    widget=forms.PasswordInput(
                        render_value=False, attrs={"autocomplete": "new-password", **dict(spec.widget_attrs)}
                    ),
                    required=spec.required and not has_value,
                    strip=True,
                    validators=list(spec.validators),
                )
            else:
                field = forms.CharField(
                    label=spec.label,
                    help_text=spec.help_text,
                    required=spec.required,
                    initial=self.stored.get(spec.name, ""),
                    strip=True,
                    validators=list(spec.validators),
                    widget=forms.TextInput(attrs=dict(spec.widget_attrs)),
                )
            self.fields[spec.name] = field
            if spec.secret and has_value and not spec.required:
                self.fields[self.remove_field_name(spec)] = forms.BooleanField(
                    label=_("%(field)s: remove the stored value") % {"field": spec.label}, required=False
                )

    @staticmethod
    def remove_field_name(spec):
        return f"remove_{spec.name}"

    def clean(self):
        cleaned = super().clean()
        # A stored secret is kept only for the address it was entered for: changing a plain field (the store's
        # URL, the shop's domain) with the secrets left blank would send them to wherever the new value points,
        # letting someone who may edit the connection but never see its secrets hand them to a server of theirs.
        changed = [
            spec
            for spec in self.credential_fields
            if not spec.secret
            and spec.leads_secrets
            and spec.name in self.stored
            and cleaned.get(spec.name, "") != str(self.stored.get(spec.name) or "")
        ]
        if changed:
            for spec in self.credential_fields:
                if spec.secret and self.stored.get(spec.name) and not cleaned.get(spec.name):
                    self.add_error(
                        spec.name,
                        _("Enter it again: %(field)s changed, and stored secrets are kept only for the old value.")
                        % {"field": changed[0].label},
                    )
        for spec in self.credential_fields:
            if cleaned.get(self.remove_field_name(spec)) and cleaned.get(spec.name):
                self.add_error(
                    spec.name, _("Enter a new %(field)s or remove the stored one, not both.") % {"field": spec.label}
                )
        return cleaned

    def address_changed(self):
        """True when a plain field (the store URL, the shop domain) is saved with another value than the stored one."""
        merged = self.credentials()
        return any(
            str(merged.get(spec.name) or "") != str(self.stored.get(spec.name) or "")
            for spec in self.credential_fields
            if not spec.secret
        )

    def credentials(self):
        """The stored credentials with this form's changes (blank secrets keep their stored value)."""
        merged = dict(self.stored)
        for spec in self.credential_fields:
            value = self.cleaned_data.get(spec.name, "")
            if self.cleaned_data.get(self.remove_field_name(spec)):
                merged.pop(spec.name, None)
                continue
            if spec.secret and not value:
                continue
            merged[spec.name] = value
        return merged


#: The earliest history a connection imports from: no store sold online before. A date typed as year 1 overflowed
#: the adapters' date arithmetic (a generic error at every attempt, until the connection was marked failing).
EARLIEST_BACKFILL = datetime.date(1990, 1, 1)


class ConnectForm(forms.Form):
    backfill_from = forms.DateField(
        label=_("Import history from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "min": EARLIEST_BACKFILL.isoformat()}),
        help_text=_(
            "Orders placed or changed since the start of this day, in your time zone, are imported. Leave empty for "
            "the whole history."
        ),
    )

    def clean_backfill_from(self):
        value = self.cleaned_data.get("backfill_from")
        if value is None:
            return value
        if value < EARLIEST_BACKFILL:
            raise forms.ValidationError(
                _("Choose a date from %(earliest)s on, or leave it empty for the whole history.")
                % {"earliest": date_format(EARLIEST_BACKFILL, "DATE_FORMAT")}
            )
        # The import starts at the start of the day in the user's time zone (services/channel_sync.py, start_of):
        # their own today is the last day that start is not in the future.
        if value > local_datetime(timezone.now()).date():
            raise forms.ValidationError(_("Choose a date that is not in the future."))
        return value
