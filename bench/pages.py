"""bench_pages: how fast the pages and the API answer a team of about 100 reps, measured with
wrk's concurrent clients against gunicorn on loopback, next to a trivial view in the same run.

The run reads the current database and writes nothing to it: its clients carry sessions signed
here (bench.settings keeps sessions in signed cookies), so no session row, no token.
"""

import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.db import connection
from django.db.models import Max

from kpis.models import KpiSnapshot
from kpis.periods import Period
from teams.models import Rep, Team
from teams.tree import TeamTree

from . import server, wrk


@dataclass(frozen=True)
class Subjects:
    team: Team
    reps: int  # in the team's subtree
    manager: object  # a User who manages the team or a team above it
    rep: Rep
    period: str  # a quarter label


def team_near(size: int, team_id: int | None = None) -> tuple[Team, int]:
    """The team whose subtree holds the number of reps nearest `size` (or the one named)."""
    tree = TeamTree.load()
    per_team = Counter(Rep.objects.values_list("team_id", flat=True))
    sizes = {t: sum(per_team[s] for s in tree.subtree_ids([t])) for t in tree.parent}
    if team_id is None:
        if not sizes:
            raise RuntimeError("There is no team: seed the database first (seed_demo).")
        team_id = min(sizes, key=lambda t: (abs(sizes[t] - size), t))
    elif team_id not in sizes:
        raise RuntimeError(f"There is no team {team_id}.")
    return Team.objects.get(pk=team_id), sizes[team_id]


def subjects(*, size: int = 100, team_id: int | None = None) -> Subjects:
    team, reps = team_near(size, team_id)
    tree = TeamTree.load()
    managed = Team.objects.filter(pk__in=tree.ancestors(team.pk), manager__is_active=True)
    holder = min(managed, key=lambda t: tree.ancestors(team.pk).index(t.pk), default=None)
    rep = (
        Rep.objects.filter(team_id__in=tree.subtree_ids([team.pk]), user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    newest = KpiSnapshot.objects.filter(period_kind="month").aggregate(m=Max("period_start"))["m"]
    if holder is None or rep is None or newest is None:
        raise RuntimeError(f"Team {team} needs a manager, a rep and computed snapshots.")
    return Subjects(team, reps, holder.manager, rep, Period.containing("quarter", newest).label)


def session_cookie(user) -> tuple[str, str]:
    """A signed session for `user`, as the login would make: no database row."""
    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return ("Cookie", f"{settings.SESSION_COOKIE_NAME}={session.session_key}")


def targets(s: Subjects) -> list[wrk.Target]:
    rep, manager = (session_cookie(s.rep.user),), (session_cookie(s.manager),)
    team, period = s.team.pk, s.period
    return [
        wrk.Target("trivial view (/healthz)", server.HEALTH),
        wrk.Target("rep's scorecard", f"/scorecard/?period={period}", rep),
        wrk.Target("team dashboard", f"/dashboard/?team={team}&period={period}", manager),
        wrk.Target("forecast page", f"/forecast/?scope=team&subject={team}&period={period}", manager),
        wrk.Target("API scorecard", f"/api/v1/scorecard/?scope=team&subject={team}&period={period}", manager),
        wrk.Target("API snapshot list", f"/api/v1/snapshots/?team_id={team}&period={period}", manager),
        # Last: its requests take seconds, and those still running when its clients stop would
        # hold the workers through the start of the next request's run.
        wrk.Target("waterfall", f"/pipeline/waterfall/?scope=team&subject={team}&period={period}", manager),
    ]


def check(base: str, target: wrk.Target) -> None:
    """One request first: it must be a 200 right here, not a redirect (and it warms up)."""
    request = urllib.request.Request(base + target.path, headers=dict(target.headers))
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            if response.status != 200 or response.url != base + target.path:
                raise RuntimeError(f"{target.path} answered {response.status} at {response.url}")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{target.path} answered {exc.code}") from None


def run(*, seconds: float, concurrency: int, workers: int, size: int, team_id: int | None, log) -> dict:
    s = subjects(size=size, team_id=team_id)
    log(
        f"Team {s.team} ({s.team.pk}, {s.reps} reps), manager {s.manager}, rep {s.rep}, period {s.period}; "
        f"{concurrency} clients × {seconds:g} s per request, gunicorn with {workers} workers."
    )
    results = []
    with server.gunicorn(db=connection.settings_dict, workers=workers) as base:
        for target in targets(s):
            check(base, target)
            results.append(wrk.run(base, target, connections=concurrency, seconds=seconds))
            log(f"  {target.name}: {results[-1].rps} requests/s")
    return {
        "database": connection.settings_dict["NAME"],
        "team": {"id": s.team.pk, "name": s.team.name, "reps": s.reps},
        "manager": s.manager.username,
        "rep": s.rep.user.username,
        "period": s.period,
        "concurrency": concurrency,
        "seconds": seconds,
        "workers": workers,
        "conn_max_age": connection.settings_dict.get("CONN_MAX_AGE"),
        "results": [r.as_dict() for r in results],
    }
