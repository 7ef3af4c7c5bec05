"""Form pieces shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SubmitField

from campaign.formatting import LONDON


class ConfirmForm(FlaskForm):
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
