"""A file's rows as the fields of a kind: each cell read (values.py) and each reference looked up
among the records the importing user may see, with one query per kind of reference for the whole
file (`Lookups`). A row gives the data its serializer validates, what the preview shows of it,
and its errors as (field, reason).
"""

from django.db.models import Q
from django.utils import timezone

from teams.models import Rep, Team
from teams.subjects import Scope

from ..models import Customer, Opportunity, Stage
from ..periods import Period
from .kinds import Kind, Reads, normal
from .reps import NewTeam
from .values import parse_amount, parse_date, parse_datetime, parse_integer

CHOOSE = "map it to one of ours"


class Lookups:
    """The records a file may name, read once: reps by full name, username or e-mail; stages and
    teams by name; customers by external id or name; deals by external id — each among those
    `user` may see, so that a record out of sight reads as unknown, like one that does not exist."""

    def __init__(self, kind: Kind, cells_of: dict[str, set[str]], user):
        self.by_rep_name: dict[str, set[int]] = {}
        self.reps: dict[int, Rep] = {}
        self.stages = {s.pk: s for s in Stage.objects.all()}
        self.teams = {t.pk: t for t in Team.objects.visible_to(user)}
        readers = {spec.reads for spec in kind.fields if spec.name in cells_of}
        if Reads.REP in readers:
            for rep in Rep.objects.visible_to(user).select_related("user"):
                self.reps[rep.pk] = rep
                for name in {rep.full_name, rep.user.username, rep.user.email} - {""}:
                    self.by_rep_name.setdefault(name.casefold(), set()).add(rep.pk)
        self.customers_by_id, self.customers_by_name = {}, {}
        if named := self._cells(kind, cells_of, Reads.CUSTOMER):
            for c in Customer.objects.visible_to(user).filter(Q(external_id__in=named) | Q(name__in=named)):
                self.customers_by_id[c.external_id] = c
                self.customers_by_name.setdefault(c.name, []).append(c)
        self.deals = {}
        if deals := self._cells(kind, cells_of, Reads.OPPORTUNITY):
            visible = Opportunity.objects.visible_to(user)
            self.deals = {d.external_id: d for d in visible.filter(external_id__in=deals)}

    @staticmethod
    def _cells(kind: Kind, cells_of: dict[str, set[str]], reads: str) -> set[str]:
        """Every value the file gives the fields that read `reads`."""
        return set().union(
            *(cells_of[s.name] for s in kind.fields if s.reads == reads and s.name in cells_of)
        )


class Reader:
    """Reads the rows of one file for one kind and mapping."""

    def __init__(self, kind: Kind, header: list[str], mapping, lookups: Lookups):
        self.kind, self.mapping, self.lookups = kind, mapping, lookups
        self.specs = [
            (spec, header.index(mapping.columns[spec.name]))
            for spec in kind.fields
            if spec.name in mapping.columns
        ]
        self.width = len(header)
        self.unmapped: dict[str, set[str]] = {}
        self.memo: dict[tuple[str, str], tuple | str] = {}  # (field, text) → (value, shown), or why not

    def row(self, cells: list[str]) -> tuple[dict, dict, list[tuple[str, str]]]:
        """(serializer data, {label: shown value}, [(field, reason)])."""
        if len(cells) != self.width:
            return {}, {}, [("row", f"it has {len(cells)} cells where the header has {self.width}")]
        data, shown, errors = {}, {}, []
        for spec, column in self.specs:
            text = cells[column]
            if not text:
                if spec.required:
                    errors.append((spec.name, "required, and the cell is empty"))
                data[spec.to] = "" if spec.reads in (Reads.TEXT, Reads.CHOICE) else None
                shown[spec.label] = ""
                continue
            try:
                value, display = self.read(spec, text)
            except ValueError as e:
                errors.append((spec.name, str(e)))
                shown[spec.label] = text
                continue
            data[spec.to], shown[spec.label] = value, display
        return data, shown, errors

    def read(self, spec, text):
        m = self.mapping
        match spec.reads:
            case Reads.TEXT:
                return text, text
            case Reads.DATE:
                day = parse_date(text, m.date_format)
                return day, day.isoformat()
            case Reads.DATETIME:
                moment = parse_datetime(text, m.date_format)
                return moment, f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
            case Reads.AMOUNT:
                amount = parse_amount(text, m.decimal_comma)
                return amount, f"{amount:,.2f}"
            case Reads.INTEGER:
                number = parse_integer(text, m.decimal_comma)
                return number, str(number)
            case Reads.CUSTOMER:
                found = self.customer(text)
                return found.pk, found.name
            case Reads.OPPORTUNITY:
                deal = self.lookups.deals.get(text)
                if deal is None:
                    raise ValueError(f"no deal with the external id '{text}' among those you may see")
                return deal.pk, str(deal)
            case Reads.PERIOD:
                period = Period.parse(text)  # its ValueError says what a period looks like
                return period, period.label
        # A file names the same few stages and owners on every row: each is looked up once.
        key = (spec.name, text)
        if key not in self.memo:
            try:
                self.memo[key] = self.mapped(spec, text)
            except ValueError as e:
                self.memo[key] = str(e)
        if isinstance(self.memo[key], str):
            raise ValueError(self.memo[key])
        return self.memo[key]

    def customer(self, text):
        found = self.lookups.customers_by_id.get(text)
        if found is not None:
            return found
        named = self.lookups.customers_by_name.get(text, [])
        if len(named) > 1:
            raise ValueError(f"{len(named)} customers are named '{text}': name it by its external id")
        if not named:
            raise ValueError(f"no customer with the external id or name '{text}' among those you may see")
        return named[0]

    def mapped(self, spec, text):
        """A value of the file mapped to ours: by the mapping's `values`, else by our names."""
        ours = (self.mapping.values or {}).get(spec.name, {}).get(text)
        if ours is not None:
            return self.ours(spec, text, str(ours))
        match spec.reads:
            case Reads.REP:
                pks = self.lookups.by_rep_name.get(text.casefold(), set())
                if len(pks) > 1:
                    self.unmapped.setdefault(spec.name, set()).add(text)
                    raise ValueError(f"'{text}' names {len(pks)} reps: {CHOOSE}")
                found = [self.lookups.reps[pk] for pk in pks]
                what = "owner"
            case Reads.STAGE:
                found = [s for s in self.lookups.stages.values() if normal(s.name) == normal(text)]
                what = "stage"
            case Reads.TEAM:
                found = [t for t in self.lookups.teams.values() if normal(t.name) == normal(text)]
                what = "team"
            case Reads.CHOICE:
                hit = [v for v, label in spec.options if normal(text) in (normal(v), normal(label))]
                if hit:
                    return hit[0], dict(spec.options)[hit[0]]
                found, what = [], spec.label.lower()
        if len(found) == 1:
            return found[0].pk, str(found[0])
        self.unmapped.setdefault(spec.name, set()).add(text)
        if spec.creates and not found:
            return NewTeam(text), f"{text} (new)"
        if spec.reads == Reads.CHOICE:
            raise ValueError(f"unknown {what} '{text}': {CHOOSE} ({', '.join(v for v, _ in spec.options)})")
        raise ValueError(f"unknown {what} '{text}': {CHOOSE}")

    def ours(self, spec, text, ours: str):
        known = {
            Reads.REP: self.lookups.reps,
            Reads.STAGE: self.lookups.stages,
            Reads.TEAM: self.lookups.teams,
        }.get(spec.reads)
        if known is None:
            options = dict(spec.options)
            if ours in options:
                return ours, options[ours]
        elif ours.isdigit() and int(ours) in known:
            return int(ours), str(known[int(ours)])
        raise ValueError(f"'{text}' is mapped to '{ours}', which is not one you may use: {CHOOSE}")


def opportunity_fixup(data: dict, mapped: set[str], stages: dict[int, Stage]) -> None:
    """HubSpot's and Salesforce's 'Close Date' is an open deal's expected close: without a column
    of its own for that, an open deal's close date is taken as its expected close."""
    stage = stages.get(data.get("stage"))
    if (
        stage is not None
        and stage.outcome == Stage.Outcome.OPEN
        and data.get("closed_on")
        and "expected_close_on" not in mapped
    ):
        data["expected_close_on"], data["closed_on"] = data["closed_on"], None


def forecast_fixup(data: dict, errors: list) -> None:
    """The period from its label, or its kind and start; the scope from what the row names."""
    period = data.pop("period", None)
    if period is not None:
        data["period_kind"], data["period_start"] = period.kind, period.start
    elif not (data.get("period_kind") and data.get("period_start")):
        errors.append(("period", "give the period (2026-Q3) or its kind and start"))
    data.setdefault("category", "commit")
    data["category"] = data["category"] or "commit"
    if data.get("rep") and data.get("team"):
        errors.append(("team", "a forecast is a rep's, a team's or the company's: not both a rep and a team"))
    data["scope"] = Scope.REP if data.get("rep") else Scope.TEAM if data.get("team") else Scope.COMPANY
