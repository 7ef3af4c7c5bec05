from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@school.org.uk"),
            Length(max=320),
        ],
    )
    # Where the person was going when asked to sign in (kept inside this app).
    next = HiddenField()
    submit = SubmitField("Email me a sign-in link")


class ConfirmSignInForm(FlaskForm):
    """Just the CSRF token: the POST is what consumes the link."""

    submit = SubmitField("Continue")


def _strip(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


class DetailsForm(FlaskForm):
    """A person's name and role, as letters sign them."""

    # Lengths are User.name's and User.job_title's columns.
    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[
            DataRequired("Enter your name"),
            Length(max=200, message="Your name must be 200 characters or fewer"),
        ],
    )
    job_title = StringField(
        "Your role, as it appears on letters",
        filters=[_strip],
        validators=[Length(max=200, message="Your role must be 200 characters or fewer")],
    )
    next = HiddenField()
    submit = SubmitField("Save your details")
