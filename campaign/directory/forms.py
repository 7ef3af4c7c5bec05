from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

CSV_ONLY = FileAllowed(["csv"], "The file must be a CSV file (ending .csv)")


class RegisterUploadForm(FlaskForm):
    file = FileField(
        "GIAS register file (CSV)",
        validators=[FileRequired("Choose the register file to upload"), CSV_ONLY],
    )
    phase = StringField(
        "Only schools of this phase (optional)",
        default="Secondary",
        validators=[Optional(), Length(max=50)],
    )
    local_authorities = StringField(
        "Only these local authorities (optional, separated by commas)",
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField("Import schools")


class RosterUploadForm(FlaskForm):
    file = FileField(
        "Roster file (CSV with URN, School, Head name, Email, Role)",
        validators=[FileRequired("Choose the roster file to upload"), CSV_ONLY],
    )
    submit = SubmitField("Import heads")


class LetterheadForm(FlaskForm):
    name = StringField(
        "Association name",
        validators=[DataRequired("Give the association's name"), Length(max=200)],
    )
    address = TextAreaField(
        "Postal address, one line per line",
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 5},
    )
    email = EmailField(
        "Contact email",
        validators=[Optional(), Email("Enter a valid email address"), Length(max=320)],
    )
    cosignatory_limit = IntegerField(
        "List every co-signing school in parent letters up to this many signatories",
        validators=[
            InputRequired("Give a number"),
            NumberRange(min=1, max=100000, message="Give a number from 1 to 100,000"),
        ],
    )
    submit = SubmitField("Save letterhead")
