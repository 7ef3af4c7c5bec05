from __future__ import annotations

from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from campaign.consultation.models import EvidenceAnswer, EvidenceQuestion, QuestionKind, StanceKind
from campaign.forms import Fits, Form

STANCE_CHOICES = [
    SelectChoice(StanceKind.AGREE.value, "Agree: my school supports the statement as it stands"),
    SelectChoice(StanceKind.ABSTAIN.value, "Abstain: my school has no view either way"),
    SelectChoice(
        StanceKind.DISAGREE.value, "Disagree: my school has concerns, but will not stand in the way"
    ),
    SelectChoice(
        StanceKind.BLOCK.value, "Block: my school cannot support the statement being sent"
    ),
]
YES_NO_CHOICES = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class AnswerForm(Form):
    """A school's stance, plus one field per evidence question (added per campaign)."""

    kind = RadioField(
        "Does your school agree with the statement?",
        choices=STANCE_CHOICES,
        validators=[InputRequired("Choose whether your school agrees")],
    )
    reason = TextAreaField(
        "Why? (needed if your school disagrees or blocks)",
        validators=[Length(max=5000)],
    )
    submit = SubmitField("Save answer")

    def validate_reason(self, field):
        if self.kind.data in ("disagree", "block") and not (field.data or "").strip():
            raise ValidationError("Say why your school disagrees or blocks")


def answer_form(questions: list[EvidenceQuestion], **kwargs) -> AnswerForm:
    """An AnswerForm with a field `q<id>` for each question."""

    class Form(AnswerForm):
        pass

    for q in questions:
        label = q.prompt if q.required else f"{q.prompt} (optional)"
        if q.kind is QuestionKind.YES_NO:
            field = RadioField(
                label,
                choices=YES_NO_CHOICES,
                validators=[Optional()],
                description=q.help,
            )
        else:
            field = StringField(
                label, validators=[Optional(), Fits(EvidenceAnswer.text_value)], description=q.help
            )
        setattr(Form, f"q{q.id}", field)
    return Form(**kwargs)


class CommentForm(Form):
    body = TextAreaField(
        "Your comment", validators=[DataRequired("Write your comment"), Length(max=5000)]
    )
    submit = SubmitField("Post comment")


class AmendmentForm(Form):
    text = TextAreaField(
        "Your version of this paragraph",
        validators=[DataRequired("Write the text you propose"), Length(max=10000)],
        render_kw={"rows": 10},
    )
    reason = TextAreaField("Why this change? (optional)", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Propose this change")


class DecisionForm(Form):
    note = TextAreaField(
        "Note to the proposer (optional)", validators=[Optional(), Length(max=2000)]
    )
    accept = SubmitField("Accept and make a new version")
    reject = SubmitField("Reject")


class ReminderForm(Form):
    batch = HiddenField(validators=[Length(max=50)])  # services.new_batch(): 16 characters
    la = HiddenField()
    constituency = HiddenField()
    # Posted by "Send another reminder": the lead has seen that one went within a day.
    confirm = BooleanField()
    submit = SubmitField("Send reminders")


class QuestionForm(Form):
    prompt = StringField(
        "Question", validators=[DataRequired("Write the question"), Fits(EvidenceQuestion.prompt)]
    )
    kind = SelectField(
        "Kind of answer",
        choices=[SelectChoice(k.value, k.label) for k in QuestionKind],
        default=QuestionKind.MONEY.value,
    )
    help = StringField("Help text (optional)", validators=[Optional(), Fits(EvidenceQuestion.help)])
    required = BooleanField("Every school must answer it")
    submit = SubmitField("Add question")
