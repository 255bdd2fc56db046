"""The reps kind: people, their users and their teams, which the bulk machinery cannot write (a
rep's change of team is a dated move, recorded by Rep.save; a rep needs a user).

A row is matched on the rep's external id, or on the full name of a rep stored without one (a
first import links the reps that exist). A new rep takes the user its username or e-mail finds,
else a new user (no password: they sign in once an admin gives them one); a team named that does
not exist is created at the top. Creating a user or a team, making an existing user a rep, and
moving a rep are listed for the admin to confirm (Preview.confirm) and done only once confirmed:
nothing grants a role unseen. A move counts from today (teams.history), recorded as the
importer's. An existing rep's user is left as it is: the import changes a rep, not an account.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify

from teams.models import Rep, Team

from ..signals import bulk_changes


class NewTeam(str):
    """A team name the file gives that no team has: created when the import is confirmed."""


@dataclass
class RepPlan:
    new: list[tuple[int, dict]] = field(default_factory=list)  # (index, row)
    changed: list[tuple[int, Rep]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def reps_plan(*, rows: list[tuple[int, dict]], checked, user) -> tuple[RepPlan, list[int]]:
    """What importing these rows would do; refused rows are told to `checked`, what needs the
    admin's confirmation too."""
    User = get_user_model()
    stored = {
        r.external_id: r for r in Rep.objects.filter(external_id__in=[d["external_id"] for _, d in rows])
    }
    # A rep stored without an external id is matched by full name: a first import links them.
    unlinked = {
        r.full_name: r
        for r in Rep.objects.filter(external_id=None, full_name__in=[d["full_name"] for _, d in rows])
    }
    names = dict(Rep.objects.values_list("full_name", "external_id"))
    wanted = {d.get(k) for _, d in rows for k in ("username", "email")} - {None, ""}
    users = {}
    for u in User.objects.filter(username__in=wanted) | User.objects.filter(email__in=wanted):
        users.setdefault(u.username, u)
        if u.email:
            users.setdefault(u.email, u)
    with_rep = set(
        Rep.objects.filter(user__in=[u.pk for u in users.values()]).values_list("user_id", flat=True)
    )
    plan, lines, seen_names, seen_users = RepPlan(), [], {}, {}
    for line, data in rows:
        errors = _row_errors(data)
        name, key = data["full_name"], data["external_id"]
        rep = stored.get(key) or unlinked.get(name)
        if name in names and names[name] != key and (rep is None or rep.full_name != name):
            errors.append(("full_name", f"'{name}' is the name of another rep"))
        if name in seen_names:
            errors.append(("full_name", f"'{name}' is also on line {seen_names[name]}"))
        seen_names.setdefault(name, line)
        account = None
        if rep is None and not errors:
            account = _account(data, users)
            if account is None:
                data["username"] = _username(data)
                if data["username"] in users or User.objects.filter(username=data["username"]).exists():
                    errors.append(
                        ("username", f"'{data['username']}' is taken by a user this row does not find")
                    )
            elif account.pk in with_rep:
                errors.append(("username", f"the user '{account.username}' is already another rep"))
            taken = data.get("username") if account is None else account.username
            if taken in seen_users:
                errors.append(("username", f"the user '{taken}' is also on line {seen_users[taken]}"))
            seen_users.setdefault(taken, line)
        if errors:
            for field_name, reason in errors:
                checked.refuse(line, field_name, reason)
            continue
        index, team = len(lines), data["team"]
        lines.append(line)
        if isinstance(team, NewTeam):
            checked.confirm.append(f"creates the team '{team}' (at the top) for rep {name}")
        if rep is None:
            data["user"] = account
            plan.new.append((index, data))
            if account is None:
                checked.confirm.append(f"creates user {data['username']} for rep {name}")
            else:
                checked.confirm.append(f"makes user {account.username} the rep {name}")
            continue
        moved = isinstance(team, NewTeam) or team != rep.team_id
        if moved:
            checked.confirm.append(
                f"moves rep {rep.full_name} from team '{rep.team}' to '{_team_name(team)}' from today"
            )
        if moved or rep.full_name != name or rep.external_id != key:
            rep.full_name, rep.external_id, rep.new_team = name, key, team
            plan.changed.append((index, rep))
        else:
            plan.unchanged.append(index)
    checked.confirm = list(dict.fromkeys(checked.confirm))  # a new team named on many rows: once
    return plan, lines


def _row_errors(data: dict) -> list[tuple[str, str]]:
    errors = []
    for name, limit in (("external_id", 100), ("full_name", 150), ("username", 150)):
        if len(data.get(name) or "") > limit:
            errors.append((name, f"over {limit} characters"))
    for name, validate in (("email", validate_email), ("username", UnicodeUsernameValidator())):
        try:
            if data.get(name):
                validate(data[name])
        except ValidationError as e:
            errors.append((name, " ".join(e.messages)))
    team = data.get("team")
    if isinstance(team, NewTeam) and len(team) > 150:
        errors.append(("team", "over 150 characters"))
    return errors


def _account(data: dict, users: dict):
    for key in ("username", "email"):
        if data.get(key) and data[key] in users:
            return users[data[key]]
    return None


def _username(data: dict) -> str:
    if data.get("username"):
        return data["username"]
    if data.get("email"):
        return data["email"].split("@")[0][:150]
    return slugify(data["full_name"]).replace("-", ".")[:150] or "rep"


def _team_name(team) -> str:
    return str(team) if isinstance(team, NewTeam) else Team.objects.get(pk=team).name


@transaction.atomic
def reps_save(*, plan: RepPlan, user, recompute: bool = True, progress=None) -> None:
    """Writes a confirmed plan: users, teams, reps, moves — each through its model's save, which
    records a rep's membership (teams.history) as made by `user`."""
    User = get_user_model()
    by = user if user.pk else None
    teams: dict[str, Team] = {}

    def team_of(team):
        if not isinstance(team, NewTeam):
            return team
        if team not in teams:
            teams[team] = Team(name=team)
            teams[team].save(by=by)
        return teams[team].pk

    with bulk_changes(recompute=recompute):
        for done, (_, data) in enumerate(plan.new, start=1):
            account = data["user"]
            if account is None:
                first, _, last = data["full_name"].partition(" ")
                account = User(
                    username=data["username"],
                    email=data.get("email") or "",
                    first_name=first[:150],
                    last_name=last[:150],
                )
                account.set_unusable_password()
                account.save()
            Rep(
                external_id=data["external_id"],
                full_name=data["full_name"],
                user=account,
                team_id=team_of(data["team"]),
            ).save(by=by)
            if progress:
                progress("writing", done, len(plan.new) + len(plan.changed))
        for _, rep in plan.changed:
            rep.team_id = team_of(rep.new_team)
            rep.save(by=by)
