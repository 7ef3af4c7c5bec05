from __future__ import annotations

from wtforms import BooleanField, HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from campaign.drafting.models import Campaign
from campaign.forms import Fits, Form
from campaign.signoff.models import Decision, Signature


class SignForm(Form):
    decision = RadioField(
        "Your school's decision",
        choices=[
            SelectChoice(Decision.SIGNED.value, "Sign: add my school to the letter"),
            SelectChoice(Decision.DECLINED.value, "Decline: my school will not sign"),
        ],
        validators=[InputRequired("Choose whether your school signs")],
    )
    name = StringField(
        "Your name, as it should appear on the letter",
        validators=[DataRequired("Give your name as it should appear"), Fits(Signature.name)],
    )
    role = StringField(
        "Your role", validators=[DataRequired("Give your role"), Fits(Signature.role)]
    )
    comment = TextAreaField(
        "A comment to the lead (optional)", validators=[Optional(), Length(max=2000)]
    )
    version_sha256 = HiddenField()
    submit = SubmitField("Send")


class SettingsForm(Form):
    reminder_days = StringField(
        "Remind unanswered schools this many days before the deadline",
        validators=[
            Optional(),
            Length(max=500),
            Regexp(
                r"^\s*[0-9]{1,2}(\s*,\s*[0-9]{1,2})*\s*$",
                message="Write days as numbers, like 7, 3, 1",
            ),
        ],
    )
    public_page = BooleanField("Publish the list of signatories once sign-off closes")
    submit = SubmitField("Save settings")

    @property
    def days(self) -> str:
        """The days as stored: each once, largest first, like "7,3,1"."""
        days = {int(d) for d in (self.reminder_days.data or "").split(",") if d.strip()}
        return ",".join(str(d) for d in sorted(days, reverse=True))

    def validate_reminder_days(self, field: StringField) -> None:
        if field.errors:  # not days at all: Regexp has said so
            return
        limit = Campaign.reminder_days.type.length
        if len(self.days) > limit:
            raise ValidationError(
                f"Give fewer reminder days: the list can be at most {limit} characters, "
                "like 14, 7, 3, 1"
            )
