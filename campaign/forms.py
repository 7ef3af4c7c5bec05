"""Form pieces shared by every feature, and the text checks every form makes.

Every form is a `Form`: each of its text fields refuses control characters, and
line breaks too unless it is a multi-line TextAreaField, with a message naming
what to remove. A field saved in a `String(n)` column takes its maximum from
the column with `Fits(Model.column)`, so the form and the database agree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import wtforms
from flask import request
from flask_wtf import FlaskForm
from sqlalchemy.orm import QueryableAttribute
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import (
    DateTimeLocalField,
    FileField,
    HiddenField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, StopValidation

from campaign.formatting import LONDON

# Line breaks as str.splitlines sees them; a mail header or a CSV cell breaks on them.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0 and C1 controls and DEL; tab and line breaks are allowed in multi-line fields.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def single_line_text(form, field) -> None:
    """No line break and no control character (a title, a name, a subject)."""
    value = field.data or ""
    if _LINE_BREAK.search(value):
        raise StopValidation("Keep this on one line: remove the line break")
    _refuse_control(_CONTROL.search(value))


def multi_line_text(form, field) -> None:
    """Line breaks and tabs, but no other control character (an address, a comment)."""
    _refuse_control(_MULTI_LINE_CONTROL.search(field.data or ""))


def _refuse_control(found: re.Match | None) -> None:
    if found:
        raise StopValidation(
            f"Remove the invisible control character U+{ord(found[0]):04X}: "
            "it usually comes from copying out of another program"
        )


class Fits(Length):
    """At most as many characters as the String(n) column the field is saved in."""

    def __init__(self, column: QueryableAttribute, message: str | None = None):
        super().__init__(
            max=column.type.length,
            message=message or "Keep this to %(max)d characters or fewer (it has %(length)d)",
        )


class Form(FlaskForm):
    """Every form's base: its text fields are checked for control characters, and
    only its file fields read the request's files."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            if isinstance(formdata, CombinedMultiDict):
                # Flask-WTF offers every field the files too: a file posted under a
                # text field's name would reach its filters, validators and queries.
                names = {field.name for field in form if isinstance(field, FileField)}
                files = MultiDict(
                    (name, file) for name, file in request.files.items(multi=True) if name in names
                )
                formdata = CombinedMultiDict((files, request.form))
            return formdata

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(found) for name, found in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            # Hidden fields carry the app's own values, checked where they are used.
            if isinstance(field, StringField) and not isinstance(field, HiddenField):
                check = multi_line_text if isinstance(field, TextAreaField) else single_line_text
                extra.setdefault(name, []).insert(0, check)
        return super().validate(extra)


class IntegerField(wtforms.IntegerField):
    """A whole number of at most 15 digits: a longer one cannot be compared with a
    float (NumberRange would raise OverflowError past 308 digits)."""

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist[0].strip()) > 15:
            self.data = None
            raise ValueError("Give a smaller number")
        super().process_formdata(valuelist)


class ConfirmForm(Form):
    """A confirmation page's single button: the POST is the action."""

    submit = SubmitField("Confirm")


class LondonDateTimeField(DateTimeLocalField):
    """A date and time typed in UK time, stored in UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = self.data.replace(tzinfo=LONDON).astimezone(UTC)

    def _value(self):
        if isinstance(self.data, datetime):
            return self.data.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
        return super()._value()
