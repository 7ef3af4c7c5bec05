from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional

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
