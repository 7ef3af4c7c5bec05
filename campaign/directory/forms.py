from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from campaign.directory.letterhead import (
    ACCENT_MESSAGE,
    MAX_LOGO_BYTES,
    LetterheadError,
    Logo,
    checked_accent,
    checked_logo,
)
from campaign.directory.models import Association
from campaign.forms import Fits, Form, IntegerField

CSV_ONLY = FileAllowed(["csv"], "The file must be a CSV file (ending .csv)")


class RegisterUploadForm(Form):
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


class RosterUploadForm(Form):
    file = FileField(
        "Roster file (CSV with URN, School, Head name, Email, Role)",
        validators=[FileRequired("Choose the roster file to upload"), CSV_ONLY],
    )
    submit = SubmitField("Import heads")


class LetterheadForm(Form):
    name = StringField(
        "Association name",
        validators=[DataRequired("Give the association's name"), Fits(Association.name)],
    )
    address = TextAreaField(
        "Postal address, one line per line",
        validators=[Optional(), Fits(Association.address)],
        render_kw={"rows": 5},
    )
    email = EmailField(
        "Contact email",
        validators=[Optional(), Email("Enter a valid email address"), Fits(Association.email)],
    )
    cosignatory_limit = IntegerField(
        "List every co-signing school in parent letters up to this many signatories",
        validators=[
            InputRequired("Give a number"),
            NumberRange(min=1, max=100000, message="Give a number from 1 to 100,000"),
        ],
    )
    # Not named "logo": with obj=association the field would be filled with the stored bytes.
    logo_file = FileField(
        "Logo (optional)",
        validators=[FileAllowed(["png", "svg"], "The logo must be a PNG or SVG file")],
        render_kw={"accept": ".png,.svg,image/png,image/svg+xml"},
    )
    remove_logo = BooleanField("Remove the logo")
    accent = StringField(
        "Accent colour",
        filters=[lambda value: value.strip() if value else value],
        validators=[Fits(Association.accent, ACCENT_MESSAGE)],
        render_kw={"spellcheck": "false"},
    )
    submit = SubmitField("Save letterhead")

    max_logo_kb = MAX_LOGO_BYTES // 1024
    new_logo: Logo | None = None

    def validate_logo_file(self, field: FileField) -> None:
        if not field.data:
            return
        if self.remove_logo.data:
            raise ValidationError("Choose a new logo or tick “Remove the logo”, not both")
        try:
            self.new_logo = checked_logo(field.data.read(), field.data.filename or "")
        except LetterheadError as error:
            raise ValidationError(str(error)) from error

    def validate_accent(self, field: StringField) -> None:
        if field.errors:  # too long: already said
            return
        try:
            field.data = checked_accent(field.data)
        except LetterheadError as error:
            raise ValidationError(str(error)) from error
