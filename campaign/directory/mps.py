"""Constituencies and their MPs: the Commons Library results file, refreshed from Parliament."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select, update

from campaign.directory.csvfile import (
    ImportSummary,
    column,
    column_limits,
    read_rows,
    too_long,
)
from campaign.directory.models import Constituency, Mp, School
from campaign.directory.roster import normalise_email
from campaign.extensions import db

REQUIRED = ["ONS ID", "Constituency name"]
ONS_CODE = re.compile(r"[ENSW][0-9]{8}")  # ASCII digits: \d also takes "²"
SEAT_COLUMNS = {"region": "Region name", "country": "Country name"}
MP_COLUMNS = {"first_name": "Member first name", "last_name": "Member surname"}
SEAT_LABELS = {"name": "Constituency name", **SEAT_COLUMNS}
MP_LABELS = {**MP_COLUMNS, "party": "First party", "email": "Email"}
SEAT_LIMITS = column_limits(Constituency.__table__, SEAT_LABELS)
MP_LIMITS = column_limits(Mp.__table__, MP_LABELS)

# The results file names parties by abbreviation; letters want the full name.
PARTIES = {
    "Lab": "Labour",
    "Con": "Conservative",
    "LD": "Liberal Democrat",
    "SNP": "Scottish National Party",
    "SF": "Sinn Féin",
    "Ind": "Independent",
    "RUK": "Reform UK",
    "DUP": "Democratic Unionist Party",
    "Green": "Green Party",
    "PC": "Plaid Cymru",
    "SDLP": "Social Democratic and Labour Party",
    "Spk": "Speaker",
    "APNI": "Alliance",
    "TUV": "Traditional Unionist Voice",
    "UUP": "Ulster Unionist Party",
}


def packaged_results() -> bytes:
    """The House of Commons Library GE2024 results file shipped with the package."""
    return (
        resources.files("campaign") / "data" / "HoC-GE2024-results-by-constituency.csv"
    ).read_bytes()


def import_mps(data: bytes) -> ImportSummary:
    """Add or update constituencies and MPs, then link schools to them by ONS code.

    Reads the Commons Library results file, or a simple CSV of the same
    columns (any it lacks are left as they were) with an optional Email.
    The caller commits.
    """
    summary = ImportSummary()
    constituencies = {c.ons_code: c for c in db.session.scalars(select(Constituency))}
    seen: dict[str, int] = {}
    what = "an MPs file (ONS ID, Constituency name)"
    for line, row in read_rows(data, REQUIRED, what, summary):
        summary.read += 1
        code, name = row["ONS ID"].upper(), row["Constituency name"]
        if not ONS_CODE.fullmatch(code):
            summary.reject(line, f'ONS ID "{row["ONS ID"][:20]}" is not a constituency code.')
            continue
        if not name:
            summary.reject(line, f"{code} has no constituency name.")
            continue
        if code in seen:
            summary.reject(line, f"{code} appears again (first on line {seen[code]}).")
            continue
        seen[code] = line
        email = column(row, "Email")
        if email:
            try:
                email = normalise_email(email)
            except ValueError as exc:
                summary.reject(line, f'Email "{email[:80]}" is not valid: {exc}')
                continue
        wanted_seat = {"name": name, **_given(row, SEAT_COLUMNS)}
        wanted_mp = _given(row, MP_COLUMNS)
        if {"first party", "party"} & {h.lower() for h in row}:
            party = column(row, "First party") or column(row, "Party")
            wanted_mp["party"] = PARTIES.get(party, party)
        if email:
            wanted_mp["email"] = email
        problem = too_long(wanted_seat, SEAT_LIMITS, SEAT_LABELS)
        if problem := problem or too_long(wanted_mp, MP_LIMITS, MP_LABELS):
            summary.reject(line, problem)
            continue

        seat = constituencies.get(code)
        if seat is None:
            seat = Constituency(ons_code=code, **wanted_seat)
            seat.mp = Mp(**wanted_mp)
            db.session.add(seat)
            summary.added += 1
            continue
        changed = _assign(seat, wanted_seat)
        if seat.mp is None:
            seat.mp = Mp(**wanted_mp)
            changed = True
        else:
            changed |= _assign(seat.mp, wanted_mp)
        if changed:
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
    link_schools()
    return summary


def _given(row: dict[str, str], columns: dict[str, str]) -> dict[str, str]:
    # A simple CSV may carry only some columns (say ONS ID, name and Email):
    # a column the file lacks must leave what we hold alone, not blank it.
    headers = {h.lower() for h in row}
    return {attr: column(row, name) for attr, name in columns.items() if name.lower() in headers}


def link_schools() -> None:
    """Point each school at the constituency its register code names (or none if unknown)."""
    known = select(Constituency.id).where(Constituency.ons_code == School.constituency_code)
    db.session.execute(update(School).values(constituency_id=known.scalar_subquery()))


def _assign(obj, values: dict) -> bool:
    changed = False
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            changed = True
    return changed


# --- Parliament's Members API -------------------------------------------------


class MembersApiError(Exception):
    """Parliament's Members API could not be read; nothing was changed."""


@dataclass
class RefreshSummary:
    matched: int = 0
    updated: int = 0
    unmatched: list[str] | None = None

    def as_dict(self) -> dict:
        return {"matched": self.matched, "updated": self.updated, "unmatched": self.unmatched}


class MembersApiClient:
    """A small client for https://members-api.parliament.uk (the host is configurable)."""

    def __init__(self, base_url: str, timeout: float = 20.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, **params) -> dict:
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except (OSError, ValueError) as exc:
            raise MembersApiError(f"Could not read {url}: {exc}") from exc

    def current_mps(self, page_size: int = 20):
        """Yield each current member of the Commons as the Search endpoint gives it."""
        skip = 0
        while True:
            page = self._get(
                "/api/Members/Search",
                House=1,
                IsCurrentMember="true",
                skip=skip,
                take=page_size,
            )
            items = page.get("items") or []
            for item in items:
                yield item["value"]
            skip += len(items)
            if not items or skip >= page.get("totalResults", 0):
                return

    def contact(self, member_id: int) -> list[dict]:
        return self._get(f"/api/Members/{member_id}/Contact").get("value") or []


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower().replace("&", "and")).strip()


def refresh_mps(client: MembersApiClient) -> RefreshSummary:
    """Update MPs' names, parties and contact details from Parliament. The caller commits."""
    seats = {_key(c.name): c for c in db.session.scalars(select(Constituency))}
    summary = RefreshSummary(unmatched=[])
    for member in client.current_mps():
        membership = member.get("latestHouseMembership") or {}
        seat = seats.get(_key(membership.get("membershipFrom", "")))
        if seat is None:
            summary.unmatched.append(membership.get("membershipFrom", "") or str(member["id"]))
            continue
        summary.matched += 1
        contacts = client.contact(member["id"])
        office = next((c for c in contacts if c.get("email")), None) or (
            contacts[0] if contacts else {}
        )
        address = ", ".join(office.get(f"line{i}") for i in range(1, 6) if office.get(f"line{i}"))
        if office.get("postcode"):
            address = f"{address}, {office['postcode']}" if address else office["postcode"]
        wanted = {
            "parliament_id": member["id"],
            "display_as": member.get("nameDisplayAs") or "",
            "party": (member.get("latestParty") or {}).get("name") or "",
            "email": (office.get("email") or "").strip().lower(),
            "postal_address": address,
        }
        if seat.mp is None:
            seat.mp = Mp()
        if _assign(seat.mp, {k: v for k, v in wanted.items() if v or k == "parliament_id"}):
            summary.updated += 1
    db.session.flush()
    return summary
