from __future__ import annotations

from datetime import UTC, datetime

from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from campaign.drafting.models import Campaign, StatementVersion
from campaign.drafting.text import MAX_LENGTH
from campaign.forms import Fits, Form, LondonDateTimeField


class CampaignForm(Form):
    title = StringField(
        "Title", validators=[DataRequired("Give the campaign a title"), Fits(Campaign.title)]
    )
    summary = TextAreaField(
        "Summary (optional)",
        validators=[Optional(), Length(max=2000)],
        description="Two or three sentences: heads see it in the invitation email.",
    )
    to_parents = BooleanField("Parents of every signing school", default=True)
    to_mps = BooleanField("The MPs of every signing school's constituency", default=True)
    consultation_deadline = LondonDateTimeField(
        "Consultation closes (optional)", validators=[Optional()]
    )
    signoff_deadline = LondonDateTimeField("Sign-off closes (optional)", validators=[Optional()])
    submit = SubmitField("Create campaign")

    def validate_to_mps(self, field):
        if not (field.data or self.to_parents.data):
            raise ValidationError("Choose who the letter goes to: parents, MPs or both")

    def validate_consultation_deadline(self, field):
        if field.data and field.data <= datetime.now(UTC):
            raise ValidationError("The consultation deadline must be in the future")

    def validate_signoff_deadline(self, field):
        if field.data and field.data <= datetime.now(UTC):
            raise ValidationError("The sign-off deadline must be in the future")
        closes = self.consultation_deadline.data
        if field.data and closes and field.data <= closes:
            raise ValidationError("Sign-off must close after the consultation closes")


class StatementForm(Form):
    body = TextAreaField(
        "Statement",
        validators=[
            DataRequired("Write the statement"),
            Length(
                max=MAX_LENGTH, message=f"The statement can be at most {MAX_LENGTH:,} characters"
            ),
        ],
    )
    note = StringField(
        "What changed (optional)", validators=[Optional(), Fits(StatementVersion.note)]
    )
    submit = SubmitField("Save statement")
