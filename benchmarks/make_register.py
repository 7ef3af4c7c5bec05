#!/usr/bin/env python3
"""Write a fictional schools register in the exact GIAS download format, and an
association roster for it.

The register has the real 135-column GIAS header (taken from a real download),
is encoded in Windows-1252 like the real file, and places fictional schools in
real 2024 parliamentary constituencies (codes and names from the House of
Commons Library GE2024 results). School names, URNs, heads and emails are made
up: URNs start at 900000, emails use the reserved .example domain.

  make_register.py essex OUT_DIR          # ~300 schools in the East of England,
                                          # roster of the Essex-area secondaries
  make_register.py national OUT_DIR N     # N schools across England's 543 seats
"""
import csv, random, sys, pathlib, unicodedata

HERE = pathlib.Path(__file__).resolve().parent.parent  # the project
HEADER = next(csv.reader(open(HERE / "tests/data/gias-samples/DFE-Digital_publish-teacher-training/downloaded.csv", encoding="utf-8")))
SEATS = list(csv.DictReader(open(HERE / "campaign/data/HoC-GE2024-results-by-constituency.csv", encoding="utf-8")))
ESSEX = {  # constituency -> GIAS local authority
    "Basildon and Billericay": "Essex", "Braintree": "Essex", "Brentwood and Ongar": "Essex",
    "Castle Point": "Essex", "Chelmsford": "Essex", "Clacton": "Essex", "Colchester": "Essex",
    "Epping Forest": "Essex", "Harlow": "Essex", "Harwich and North Essex": "Essex", "Maldon": "Essex",
    "North West Essex": "Essex", "Rayleigh and Wickford": "Essex", "Witham": "Essex",
    "South Basildon and East Thurrock": "Thurrock", "Thurrock": "Thurrock",
    "Southend East and Rochford": "Southend-on-Sea", "Southend West and Leigh": "Southend-on-Sea",
}
LA_CODE = {"Essex": "881", "Thurrock": "883", "Southend-on-Sea": "882"}
STEMS = ["Oakfield", "Riverside", "St Anne\u2019s", "Beaumont", "Kingswood", "Harbour", "Meadowbank", "Abbey",
         "Brookfield", "Greenacre", "Hillcrest", "Lakeside", "Millfield", "Northgate", "Parkside", "Queensway",
         "Ashcombe", "Bramblewood", "Castleview", "Denholme", "Elmhurst", "Foxley", "Glebe", "Hawthorn",
         "Ivydene", "Juniper", "Larkrise", "Marshfield", "Notre Dame", "Orchard", "Pinewood", "Ravenscroft",
         "Saxon", "Thornbury", "Upton", "Valley", "Willowbrook", "Yardley", "St Thomas More", "Sir John Hale"]
SECONDARY = ["Academy", "High School", "School", "Community College", "Catholic High School",
             "Church of England Academy", "Grammar School", "Free School"]
PRIMARY = ["Primary School", "Infant School", "Junior School", "Primary Academy", "CofE Primary School"]
FIRST = ["Sarah", "James", "Priya", "David", "Helen", "Mohammed", "Claire", "Andrew", "Zo\u00eb", "Rachel",
         "Thomas", "Aisha", "Mark", "Joanne", "Ian", "Beatrice", "Daniel", "Fiona", "Gareth", "Nadia",
         "Ren\u00e9e", "Owen", "Kate", "Luke", "Siobh\u00e1n", "Patrick", "Grace", "Femi", "Lucy", "Simon"]
LAST = ["Ahmed", "Barker", "Clarke", "Dunmore", "Ellis", "Fairweather", "Greene", "Hussain", "Ireland",
        "Jennings", "Kowalski", "Lambert", "Mensah", "Nowak", "O\u2019Connor", "Patel", "Quinn", "Reid",
        "Singh", "Thompson", "Underwood", "Vaughan", "Walsh", "Young", "Zielinski", "Bront\u00eb", "Osei"]
TYPES = [("Academy converter", "10", "Academies", "28"), ("Community school", "4", "Local authority maintained schools", "01"),
         ("Academy sponsor led", "10", "Academies", "34"), ("Voluntary aided school", "4", "Local authority maintained schools", "02"),
         ("Free schools", "11", "Free Schools", "35"), ("Foundation school", "4", "Local authority maintained schools", "05")]


def slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def school_row(rng, urn, seat, la, phase, status="Open", kind=None):
    town = seat["Constituency name"].split(" and ")[0].replace("North West ", "").replace("South ", "")
    stem = rng.choice(STEMS)
    name = f"{stem} {rng.choice(SECONDARY if phase == 'Secondary' else PRIMARY)}"
    type_name, group_code, group_name, type_code = kind or rng.choice(TYPES)
    pupils = rng.randint(650, 1900) if phase == "Secondary" else rng.randint(90, 630)
    boys = pupils // 2 + rng.randint(-40, 40)
    row = dict.fromkeys(HEADER, "")
    row.update({
        "URN": str(urn), "LA (code)": LA_CODE.get(la, "999"), "LA (name)": la,
        "EstablishmentNumber": str(4000 + urn % 1000), "EstablishmentName": name,
        "TypeOfEstablishment (code)": type_code, "TypeOfEstablishment (name)": type_name,
        "EstablishmentTypeGroup (code)": group_code, "EstablishmentTypeGroup (name)": group_name,
        "EstablishmentStatus (code)": {"Open": "1", "Closed": "2", "Open, but proposed to close": "4"}[status],
        "EstablishmentStatus (name)": status,
        "PhaseOfEducation (code)": "4" if phase == "Secondary" else "2", "PhaseOfEducation (name)": phase,
        "StatutoryLowAge": "11" if phase == "Secondary" else "4", "StatutoryHighAge": "18" if phase == "Secondary" else "11",
        "Gender (name)": "Mixed", "CensusDate": "16-01-2025", "NumberOfPupils": str(pupils),
        "NumberOfBoys": str(boys), "NumberOfGirls": str(pupils - boys),
        "PercentageFSM": rng.choice([f"{rng.uniform(4, 45):.2f}"] * 9 + [".."]),
        "LastChangedDate": "03-11-2025", "Street": f"{rng.randint(1, 200)} {rng.choice(['School', 'Church', 'Mill', 'Station', 'Park'])} {rng.choice(['Road', 'Lane', 'Avenue', 'Way'])}",
        "Town": town, "Postcode": f"{rng.choice(['CM', 'CO', 'SS', 'RM', 'IG'])}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        "SchoolWebsite": f"www.{slug(name)}.example", "TelephoneNum": f"01{rng.randint(200, 799)}{rng.randint(100000, 999999)}",
        "HeadTitle (name)": rng.choice(["Mr", "Mrs", "Ms", "Dr", "Miss"]), "HeadFirstName": rng.choice(FIRST),
        "HeadLastName": rng.choice(LAST), "HeadPreferredJobTitle": rng.choice(["Headteacher", "Principal", "Head of School"]),
        "GOR (name)": seat["Region name"], "ParliamentaryConstituency (code)": seat["ONS ID"],
        "ParliamentaryConstituency (name)": seat["Constituency name"], "Country (name)": "United Kingdom",
    })
    if status != "Open":
        row["CloseDate"] = "31-08-2025" if status == "Closed" else ""
    return row


def write_register(path, rows):
    with open(path, "w", encoding="cp1252", newline="") as f:
        w = csv.DictWriter(f, HEADER, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)


def write_roster(path, rows, rng):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["URN", "School", "Head name", "Email", "Role"])
        executive = None
        for i, r in enumerate(rows):
            name = f"{r['HeadFirstName']} {r['HeadLastName']}".strip()
            local = f"{slug(r['HeadFirstName'])}.{slug(r['HeadLastName'])}" if name else "office"
            email = f"{local}@{slug(r['EstablishmentName'])}.example"
            if i == 10:  # an executive head who leads two schools appears once per school
                executive = (name, email)
            elif i == 11:
                name, email = executive
            w.writerow([r["URN"], r["EstablishmentName"], name, email, r["HeadPreferredJobTitle"]])


def essex(out):
    rng = random.Random(2026)
    seats = {s["Constituency name"]: s for s in SEATS}
    rows, urn = [], 900001
    for seat_name, la in ESSEX.items():
        for phase, n in (("Secondary", rng.randint(3, 6)), ("Primary", rng.randint(6, 10))):
            for _ in range(n):
                rows.append(school_row(rng, urn, seats[seat_name], la, phase)); urn += 1
    for s in [s for s in SEATS if s["Region name"] == "East of England" and s["Constituency name"] not in ESSEX][:20]:
        rows.append(school_row(rng, urn, s, "Hertfordshire", "Secondary")); urn += 1
    # what a real register also holds: closed and closing schools, an independent school, co-heads
    rows.append(school_row(rng, urn, seats["Colchester"], "Essex", "Secondary", status="Closed")); urn += 1
    rows.append(school_row(rng, urn, seats["Harlow"], "Essex", "Secondary", status="Open, but proposed to close")); urn += 1
    rows.append(school_row(rng, urn, seats["Chelmsford"], "Essex", "Secondary",
                           kind=("Other independent school", "3", "Independent schools", "11"))); urn += 1
    co = school_row(rng, urn, seats["Witham"], "Essex", "Secondary"); urn += 1
    co.update({"HeadTitle (name)": "Co Headteacher", "HeadFirstName": "Claire Harrison", "HeadLastName": "Victoria Wainwright"})
    rows.append(co)
    new = school_row(rng, urn, seats["Maldon"], "Essex", "Secondary"); urn += 1
    new.update({"NumberOfPupils": "", "NumberOfBoys": "", "NumberOfGirls": "", "HeadFirstName": "", "HeadLastName": "", "HeadTitle (name)": ""})
    rows.append(new)
    write_register(out / "gias-east-of-england.csv", rows)
    members = [r for r in rows if r["PhaseOfEducation (name)"] == "Secondary" and r["LA (name)"] in LA_CODE
               and r["EstablishmentStatus (name)"] != "Closed" and r["EstablishmentTypeGroup (name)"] != "Independent schools"]
    write_roster(out / "roster-essex-secondary-heads.csv", members, rng)
    print(f"{len(rows)} schools, {len(members)} roster rows")


def national(out, n):
    rng = random.Random(n)
    england = [s for s in SEATS if s["Country name"] == "England"]
    rows = [school_row(rng, 900001 + i, england[i % len(england)], england[i % len(england)]["Region name"], rng.choice(["Secondary", "Primary"]))
            for i in range(n)]
    write_register(out / f"gias-england-{n}.csv", rows)
    write_roster(out / f"roster-england-{n}.csv", rows, rng)
    print(f"{n} schools")


if __name__ == "__main__":
    mode, out = sys.argv[1], pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    essex(out) if mode == "essex" else national(out, int(sys.argv[3]))
