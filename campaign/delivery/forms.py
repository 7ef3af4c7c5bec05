from flask_wtf.file import FileField, FileRequired

from campaign.directory.forms import CSV_ONLY
from campaign.forms import Form


class ParentListForm(Form):
    file = FileField(
        "Parents' email addresses (CSV with an Email column)",
        validators=[FileRequired("Choose the CSV file of parents' email addresses"), CSV_ONLY],
    )
