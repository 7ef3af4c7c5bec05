"""Every model, imported in one place so Alembic and the app see them all."""

from campaign.auth.models import LoginToken
from campaign.directory.models import (
    Association,
    Constituency,
    Headship,
    Membership,
    Mp,
    Role,
    School,
    SchoolMembership,
    User,
)

__all__ = [
    "Association",
    "Constituency",
    "Headship",
    "LoginToken",
    "Membership",
    "Mp",
    "Role",
    "School",
    "SchoolMembership",
    "User",
]
