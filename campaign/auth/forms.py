from wtforms import EmailField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Email

from campaign.directory.models import User
from campaign.forms import Fits, Form


class SignInForm(Form):
    email = EmailField(
        "Email address",
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@school.org.uk"),
            Fits(User.email),
        ],
    )
    # Where the person was going when asked to sign in (kept inside this app).
    next = HiddenField()
    submit = SubmitField("Email me a sign-in link")


class ConfirmSignInForm(Form):
    """Just the CSRF token: the POST is what consumes the link."""

    submit = SubmitField("Continue")


def _strip(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


class DetailsForm(Form):
    """A person's name and role, as letters sign them."""

    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[
            DataRequired("Enter your name"),
            Fits(User.name, "Your name must be %(max)d characters or fewer"),
        ],
    )
    job_title = StringField(
        "Your role, as it appears on letters",
        filters=[_strip],
        validators=[Fits(User.job_title, "Your role must be %(max)d characters or fewer")],
    )
    next = HiddenField()
    submit = SubmitField("Save your details")
