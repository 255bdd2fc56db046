"""Word lists for the demo's people, companies and activities (no Faker: it is a dev-only dependency)."""

import itertools
import random
from collections.abc import Iterator


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = words(
    "Aaliyah Abel Ada Aiden Alba Alex Amara Anders Anika Arjun Aurora Beatriz Bilal Bruno Camila "
    "Carmen Chen Chiara Dana Dario Diego Elif Elena Emeka Erik Esme Farah Felix Freya Gabriel "
    "Hana Hugo Ines Isaac Ivy Jonas Kai Kenji Lara Leon Lina Luca Maeve Malik Marta Mateo Maya "
    "Mila Nadia Nia Noah Omar Oscar Priya Quinn Rafael Rosa Sami Sofia Tariq Theo Yara Zoe"
)
LAST_NAMES = words(
    "Abbott Adeyemi Alvarez Andersen Baker Bauer Becker Bianchi Brennan Carter Castillo Chowdhury "
    "Costa Dubois Duarte Eriksen Evans Fischer Fontaine Garcia Gupta Hansen Hayes Hoffmann Ito "
    "Jensen Kaur Keller Kim Kowalski Larsen Laurent Lindqvist Lopez Mahmoud Martin Meyer Moreau "
    "Murphy Nakamura Nguyen Novak Okafor Olsen Park Patel Pereira Quinn Rossi Santos Schmidt "
    "Silva Singh Sousa Tanaka Torres Vargas Verma Wagner Walsh Weber Yilmaz Young Zhang"
)

COMPANY_WORDS = words(
    "Apex Arbor Atlas Aurora Beacon Blue Bright Cedar Clear Cobalt Crest Delta Ember Evergreen "
    "Falcon First Granite Harbor Horizon Iron Juniper Keystone Lumen Maple Meridian Nimbus North "
    "Oak Orbit Pacific Peak Pine Prime Quartz Red Ridge River Silver Solar Stone Summit True "
    "Vertex Vista"
)
COMPANY_TRADES = words(
    "Analytics Biotech Builders Capital Dynamics Energy Foods Freight Health Industries Labs "
    "Logistics Media Medical Motors Networks Partners Pharma Retail Robotics Software Solutions "
    "Systems Telecom Textiles Tools Travel Ventures Works"
)
COMPANY_SUFFIXES = ("", "", "", " Inc", " Ltd", " GmbH", " Group", " Co")
PARENT_COMPANIES = (
    "Acme Holdings",
    "Globex",
    "Initech",
    "Umbrella Group",
    "Stark Industries",
    "Wayne Enterprises",
)

SECTORS = (
    "Software",
    "Retail",
    "Manufacturing",
    "Finance",
    "Healthcare",
    "Telecommunications",
    "Energy",
    "Education",
    "Logistics",
    "Media",
)
LEAD_SOURCES = ("Website", "Referral", "Event", "Outbound", "Partner", "Paid search")
SPEND_CHANNELS = ("Events", "Paid search", "Content", "Partners")

# Region name → (team name suffixes, customer countries).
REGIONS = {
    "Americas": (("East", "West", "Central"), ("United States", "Canada", "Mexico", "Brazil")),
    "EMEA": (
        ("North", "South", "Central"),
        ("United Kingdom", "Germany", "France", "Netherlands", "Spain", "Sweden", "South Africa"),
    ),
    "APAC": (("North", "South", "Oceania"), ("Australia", "Japan", "Singapore", "India", "New Zealand")),
}

ACTIVITY_SUBJECTS = {
    "call": ("Discovery call", "Follow-up call", "Check-in call", "Pricing call"),
    "email": ("Intro email", "Proposal sent", "Follow-up email", "Case study shared"),
    "meeting": ("Product demo", "On-site meeting", "Business review", "Negotiation meeting"),
}


def people(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """Endless unique (first name, last name, username), in an order fixed by `rng`."""
    pairs = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    for round_ in itertools.count(1):
        tag = "" if round_ == 1 else str(round_)
        for first, last in pairs:
            yield first, f"{last}{' ' + tag if tag else ''}", f"{first}.{last}{tag}".lower()


def company_name(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_TRADES)}{rng.choice(COMPANY_SUFFIXES)}"
