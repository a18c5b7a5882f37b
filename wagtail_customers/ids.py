"""Ids read from a request (query string, form data, JSON): the one place that decides what an id is.

An id is a positive integer written in ASCII digits that fits the database's 64-bit integers.
``str.isdigit()`` is not enough: it accepts "²" and "①" (which ``int()`` refuses, a 500) and
"١٢" (which ``int()`` reads as 12); and a 20-digit number overflows SQLite's and PostgreSQL's integers.
Anything else is "no such object": callers skip it or answer 404 / a form error, never a 500.
"""

from django import forms

#: The largest value of a 64-bit signed integer (``BigAutoField``, SQLite's INTEGER).
MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value):
    """The id ``value`` spells, or ``None`` when it is not a plain positive integer within ``MAX_ID``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str | bytes):
        return None
    text = (value.decode("ascii", "replace") if isinstance(value, bytes) else value).strip()
    if not (0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values):
    """The ids among ``values``, in order, without repeats; values that are not ids are skipped."""
    ids = (parse_id(value) for value in values or ())
    return list(dict.fromkeys(pk for pk in ids if pk is not None))


class IdModelChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` that refuses a value that is not an id before it reaches the database."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, self.queryset.model) and parse_id(value) is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` that refuses values that are not ids before they reach the database."""

    def clean(self, value):
        for item in value or ():
            if not isinstance(item, self.queryset.model) and parse_id(item) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": item}
                )
        return super().clean(value)
