from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from campaign.signoff.models import Decision


class SignForm(FlaskForm):
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
        validators=[DataRequired("Give your name as it should appear"), Length(max=200)],
    )
    role = StringField("Your role", validators=[DataRequired("Give your role"), Length(max=100)])
    comment = TextAreaField(
        "A comment to the lead (optional)", validators=[Optional(), Length(max=2000)]
    )
    version_sha256 = HiddenField()
    submit = SubmitField("Send")


class SettingsForm(FlaskForm):
    reminder_days = StringField(
        "Remind unanswered schools this many days before the deadline",
        validators=[
            Optional(),
            Regexp(
                r"^\s*\d{1,2}(\s*,\s*\d{1,2})*\s*$", message="Write days as numbers, like 7, 3, 1"
            ),
        ],
    )
    public_page = BooleanField("Publish the list of signatories once sign-off closes")
    submit = SubmitField("Save settings")
