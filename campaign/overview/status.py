"""Where each campaign stands and the one thing to do next, for the lead's home page.

A fixed handful of count queries per campaign, whatever the association's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import url_for

from campaign.consultation.services import dao_undecided_amendments, tally
from campaign.drafting.models import Campaign, CampaignState
from campaign.formatting import day_and_time, plural
from campaign.letters.models import Audience
from campaign.letters.services import dao_letter_counts, dao_locked
from campaign.signoff import progress


@dataclass
class NextStep:
    says: str  # what is the case, "14 schools have not answered"
    action: str  # the button, "Send a reminder"
    url: str


@dataclass
class Status:
    campaign: Campaign
    stage: str  # "Consultation open"
    deadline: str  # "closes tomorrow at 5pm", or ""
    done: int | None  # the progress bar: done of total, what is counted
    total: int
    counted: str
    next: NextStep | None


def _closes(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "no deadline set"
    verb = "closes" if moment > now else "closed"
    return f"{verb} {day_and_time(moment, now)}"


def _remind(unanswered: int, dashboard: str) -> NextStep:
    return NextStep(
        f"{plural(unanswered, 'school has', 'schools have')} not answered.",
        "Send a reminder",
        dashboard,
    )


def campaign_status(campaign: Campaign, now: datetime | None = None) -> Status:
    now = now or datetime.now(UTC)
    cslug = campaign.slug
    state = campaign.state
    if state is CampaignState.DRAFT:
        if campaign.current_version is None:
            step = NextStep(
                "The statement is not written yet.",
                "Write the statement",
                url_for("drafting.statement", cslug=cslug),
            )
        else:
            step = NextStep(
                f"Version {campaign.current_version.number} is ready to share with the heads.",
                "Open the consultation",
                url_for("consultation.open_consultation", cslug=cslug),
            )
        return Status(campaign, "Draft", "", None, 0, "", step)

    if state is CampaignState.CONSULTATION:
        counts = tally(campaign)
        undecided = dao_undecided_amendments(campaign.id)
        is_open = campaign.consultation_open(now)
        dashboard = url_for("consultation.dashboard", cslug=cslug)
        if undecided:
            step = NextStep(
                f"{plural(undecided, 'amendment waits', 'amendments wait')} for your decision.",
                "Decide the amendments",
                dashboard,
            )
        elif is_open and counts.no_answer:
            step = _remind(counts.no_answer, dashboard)
        else:
            step = NextStep(
                "The consultation is closed." if not is_open else "Every school has answered.",
                "Freeze the text and open sign-off",
                url_for("signoff.freeze", cslug=cslug),
            )
        deadline = (
            _closes(campaign.consultation_deadline, now)
            if campaign.consultation_closed is None
            else f"closed {day_and_time(campaign.consultation_closed, now)}"
        )
        stage = "Consultation open" if is_open else "Consultation closed"
        return Status(
            campaign, stage, deadline, counts.responded, counts.members, "schools answered", step
        )

    if state is CampaignState.SIGNOFF:
        total = progress.total(campaign)
        is_open = campaign.signoff_open(now)
        answered = total.signed + total.declined
        dashboard = url_for("signoff.dashboard", cslug=cslug)
        if is_open and total.no_answer:
            step = _remind(total.no_answer, dashboard)
        else:
            step = NextStep(
                "Sign-off has ended." if not is_open else "Every school has answered.",
                "Close sign-off",
                url_for("signoff.close", cslug=cslug),
            )
        stage = "Sign-off open" if is_open else "Sign-off ended"
        return Status(
            campaign,
            stage,
            _closes(campaign.signoff_deadline, now),
            answered,
            total.schools,
            "schools answered",
            step,
        )

    wanted = [a for a in Audience if a.wanted_by(campaign)]
    letters = dao_letter_counts(campaign.id)
    unsent = [a for a in wanted if not dao_locked(campaign.id, a)]
    if not unsent:
        step = NextStep(
            "The letters are sent.",
            "See what was delivered",
            url_for("delivery.report", cslug=cslug),
        )
    elif any(not letters[a] for a in unsent):
        step = NextStep(
            "Sign-off is closed: the signatures are final.",
            "Render the letters",
            url_for("letters.index", cslug=cslug),
        )
    else:
        ready = sum(letters[a] for a in unsent)
        step = NextStep(
            f"{plural(ready, 'letter is', 'letters are')} ready to send.",
            "Send the letters",
            url_for("delivery.index", cslug=cslug),
        )
    return Status(campaign, state.label, "", None, 0, "", step)
