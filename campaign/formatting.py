"""Plain-English numbers for pages and letters: "1 school", "2 schools", "£1,250,000"."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def number(value: int | float | None) -> str:
    return "" if value is None else f"{value:,}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`plural(2, "school")` is "2 schools"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def and_list(items: list[str]) -> str:
    """`and_list(["A", "B", "C"])` is "A, B and C"."""
    items = [str(item) for item in items]
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def money(pounds: int | float | None) -> str:
    if pounds is None:
        return ""
    return f"£{pounds:,.0f}" if float(pounds).is_integer() else f"£{pounds:,.2f}"


def when(moment: datetime | None) -> str:
    """ "23 November 2026 at 5:04pm", in UK time."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {_clock(local)}"


def _clock(local: datetime) -> str:
    hour = local.strftime("%I").lstrip("0")
    return f"{hour}{local:%p}".lower() if local.minute == 0 else f"{hour}:{local:%M%p}".lower()


def day_and_time(moment: datetime, now: datetime | None = None) -> str:
    """A moment as a person says it, in UK time: "today at 5pm", "tomorrow at 5pm",
    "on Friday at 5pm" within the week ahead, else "on 12 December at 5pm" (with
    the year when it is not this year); "yesterday at 5pm" just past."""
    local = moment.astimezone(LONDON)
    today = (now or datetime.now(UTC)).astimezone(LONDON).date()
    days = (local.date() - today).days
    clock = _clock(local)
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days == -1:
        return f"yesterday at {clock}"
    if 1 < days < 7:
        return f"on {local:%A} at {clock}"
    year = "" if local.year == today.year else f" {local.year}"
    return f"on {local.day} {local:%B}{year} at {clock}"


def when_relative(moment: datetime, now: datetime | None = None) -> str:
    """ "at 10:02am today", "at 4pm yesterday", else "on 23 November 2026 at 5:04pm"."""
    day = (now or datetime.now(UTC)).astimezone(LONDON).date()
    date, time = when(moment).split(" at ")
    local = moment.astimezone(LONDON).date()
    if local == day:
        return f"at {time} today"
    if (day - local).days == 1:
        return f"at {time} yesterday"
    return f"on {date} at {time}"
