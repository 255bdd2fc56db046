"""The demo organisation: pipeline stages, three regions of two or three teams, reps, demo logins."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from kpis.models import Stage
from teams.history import memberships_start, placements_start
from teams.models import Rep, Team, User

from .names import REGIONS, people
from .shape import rng_for

STAGES = (
    ("Prospecting", "0.10", Stage.Outcome.OPEN),
    ("Qualification", "0.25", Stage.Outcome.OPEN),
    ("Proposal", "0.50", Stage.Outcome.OPEN),
    ("Negotiation", "0.75", Stage.Outcome.OPEN),
    ("Won", "1.0", Stage.Outcome.WON),
    ("Lost", "0.0", Stage.Outcome.LOST),
)
DEMO_USERNAMES = ("admin", "manager", "rep")
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


@dataclass
class Org:
    regions: list[Team]
    teams: list[Team]  # the teams reps sit in, each below a region
    reps: list[Rep]
    countries: dict[str, tuple[str, ...]]  # team name → where its customers are
    admin: User
    logins: list[DemoLogin]


def stages_get_or_create() -> dict[str, Stage]:
    """The pipeline stages by name. Existing ones are kept as they are: probabilities are data."""
    return {
        name: Stage.objects.get_or_create(
            name=name, defaults={"order": order, "probability": Decimal(probability), "outcome": outcome}
        )[0]
        for order, (name, probability, outcome) in enumerate(STAGES, start=1)
    }


def demo_password(seed: int, username: str) -> str:
    """Reproducible from the seed, so a re-seeded demo keeps its logins; printed, never secret."""
    rng = rng_for(seed, "password", username)
    return "".join(rng.choice(PASSWORD_ALPHABET) for _ in range(14))


def org_create(*, seed: int, reps: int) -> Org:
    rng = rng_for(seed, "org")
    names = people(rng_for(seed, "people"))

    def user(username=None, password=None, **flags) -> User:
        first, last, slug = next(names)
        username = username or slug
        return User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            # Only the demo logins can sign in: hashing a real password is slow on purpose.
            password=make_password(password),
            **flags,
        )

    passwords = {username: demo_password(seed, username) for username in DEMO_USERNAMES}
    admin = user("admin", passwords["admin"], is_staff=True, is_superuser=True)
    admin.first_name, admin.last_name = "Demo", "Admin"
    team_sizes = [(region, rng.choice((2, 3))) for region in REGIONS]
    region_managers = [user("manager", passwords["manager"])] + [user() for _ in team_sizes[1:]]
    team_managers = [user() for _, size in team_sizes for _ in range(size)]
    rep_users = [user("rep", passwords["rep"])] + [user() for _ in range(reps - 1)]
    User.objects.bulk_create([admin, *region_managers, *team_managers, *rep_users])

    regions = Team.objects.bulk_create(
        Team(name=region, manager=manager)
        for (region, _), manager in zip(team_sizes, region_managers, strict=True)
    )
    managers, teams, countries = iter(team_managers), [], {}
    for (region, size), parent in zip(team_sizes, regions, strict=True):
        suffixes, region_countries = REGIONS[region]
        for suffix in suffixes[:size]:
            teams.append(Team(name=f"{region} {suffix}", parent=parent, manager=next(managers)))
            countries[teams[-1].name] = region_countries
    Team.objects.bulk_create(teams)
    placements_start([*regions, *teams])
    # Round-robin, so rep 0 (the `rep` login) sits in the first team of the `manager`'s region.
    rep_rows = Rep.objects.bulk_create(
        Rep(user=u, full_name=f"{u.first_name} {u.last_name}", team=teams[i % len(teams)])
        for i, u in enumerate(rep_users)
    )
    memberships_start(rep_rows)
    roles = {
        "admin": "superuser: Django admin, sees everything",
        "manager": f"manages {regions[0].name} and the teams below it",
        "rep": f"{rep_rows[0].full_name}, a rep in {teams[0].name}",
    }
    logins = [DemoLogin(username, passwords[username], roles[username]) for username in DEMO_USERNAMES]
    return Org(regions=regions, teams=teams, reps=rep_rows, countries=countries, admin=admin, logins=logins)
