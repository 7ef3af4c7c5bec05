from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SubmitField
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
