from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from campaign.directory.forms import CSV_ONLY


class ParentListForm(FlaskForm):
    file = FileField(
        "Parents' email addresses (CSV with an Email column)",
        validators=[FileRequired("Choose the CSV file of parents' email addresses"), CSV_ONLY],
    )
