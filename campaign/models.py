"""Every model, imported in one place so Alembic and the app see them all."""

from campaign.auth.models import LoginToken
from campaign.consultation.models import (
    Amendment,
    Comment,
    EvidenceAnswer,
    EvidenceQuestion,
    Notice,
    Reminder,
    Stance,
)
from campaign.delivery.models import DeliveryEvent, Message, ParentList, Suppression
from campaign.directory.models import (
    Association,
    Constituency,
    Headship,
    ImportJob,
    Membership,
    Mp,
    Role,
    School,
    User,
)
from campaign.drafting.models import Campaign, StatementVersion
from campaign.letters.models import Letter
from campaign.signoff.models import AuditEvent, Signature

__all__ = [
    "Amendment",
    "Association",
    "AuditEvent",
    "Campaign",
    "Comment",
    "DeliveryEvent",
    "EvidenceAnswer",
    "EvidenceQuestion",
    "ImportJob",
    "Letter",
    "Notice",
    "ParentList",
    "Reminder",
    "Stance",
    "StatementVersion",
    "Constituency",
    "Headship",
    "LoginToken",
    "Membership",
    "Message",
    "Mp",
    "Role",
    "School",
    "Signature",
    "Suppression",
    "User",
]
