"""Deal history: every change of an opportunity's stage, amount, dates or owner is a row of
OpportunityState, written by the database itself, so no way of writing a deal can skip it —
admin, API, pages, `import_crm`, the seed, `QuerySet.update`, `bulk_create`, raw SQL.

- PostgreSQL: statement-level triggers with transition tables (one INSERT … SELECT per
  statement, however many rows it wrote: a million-row COPY costs one set-based insert).
- SQLite: row-level triggers (enough for a laptop's data).

The triggers are (re)installed after every `migrate` (post_migrate, kpis.apps): SQLite's table
rebuilds drop a table's triggers, so a migration's trigger would not survive the next
AlterField. SQLite also gets the close-date rule the PostgreSQL migration 0006 installs.

Who made a change: `recorded_by(user)` (the middleware wraps every request in it) hands the
user's id to the trigger — a session setting on PostgreSQL, set just before a statement that
writes opportunities; a function the trigger calls on SQLite. Commands and workers record none.

A loader that knows a deal's past (the seed, a CRM import) replaces the one row the trigger
wrote for a new deal with the deal's known states (`states_load`).
"""

import contextlib
import contextvars
import datetime as dt

from django.db import connection
from django.utils import timezone

from .models import OpportunityState

# The user changes are recorded as; read only when a deal is written (a request's user is lazy:
# loading it in a middleware would meet a database that is down outside the 503 handling).
_actor: contextvars.ContextVar = contextvars.ContextVar("salesperf_actor", default=None)


def _actor_id() -> int | None:
    user = _actor.get()
    return user.pk if user is not None and user.is_authenticated else None


TRACKED = ("stage_id", "amount", "closed_on", "expected_close_on", "rep_id")
_COLUMNS = ", ".join(TRACKED)
_NEW_ROW = ", ".join(f"n.{c}" for c in TRACKED)
_OLD_ROW = ", ".join(f"o.{c}" for c in TRACKED)
_CHANGED = f"""SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE ({_NEW_ROW}) IS DISTINCT FROM ({_OLD_ROW})"""

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION kpis_opportunity_record_states() RETURNS trigger AS $$
DECLARE
    actor bigint := nullif(current_setting('salesperf.actor', true), '')::bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO kpis_opportunitystate
            (opportunity_id, since, until, {_COLUMNS}, recorded_at, recorded_by_id)
        SELECT id, NULL, NULL, {_COLUMNS}, now(), actor FROM new_rows;
        RETURN NULL;
    END IF;
    -- Two statements, not one with a data-modifying WITH: the old row must be closed before the
    -- new one exists (one current state per deal).
    UPDATE kpis_opportunitystate s SET until = now()
        FROM ({_CHANGED}) c WHERE s.opportunity_id = c.id AND s.until IS NULL;
    INSERT INTO kpis_opportunitystate
        (opportunity_id, since, until, {_COLUMNS}, recorded_at, recorded_by_id)
    SELECT c.id, now(), NULL, {_COLUMNS}, now(), actor FROM ({_CHANGED}) c;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS opportunity_states_inserted ON kpis_opportunity;
CREATE TRIGGER opportunity_states_inserted AFTER INSERT ON kpis_opportunity
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpis_opportunity_record_states();
DROP TRIGGER IF EXISTS opportunity_states_updated ON kpis_opportunity;
CREATE TRIGGER opportunity_states_updated AFTER UPDATE ON kpis_opportunity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpis_opportunity_record_states();
"""

_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_NEW = ", ".join(f"NEW.{c}" for c in TRACKED)
SQLITE = [
    "DROP TRIGGER IF EXISTS opportunity_states_inserted",
    f"""CREATE TRIGGER opportunity_states_inserted AFTER INSERT ON kpis_opportunity BEGIN
        INSERT INTO kpis_opportunitystate
            (opportunity_id, since, until, {_COLUMNS}, recorded_at, recorded_by_id)
        VALUES (NEW.id, NULL, NULL, {_NEW}, {_NOW}, salesperf_actor());
    END""",
    "DROP TRIGGER IF EXISTS opportunity_states_updated",
    f"""CREATE TRIGGER opportunity_states_updated AFTER UPDATE ON kpis_opportunity
    WHEN {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in TRACKED)} BEGIN
        UPDATE kpis_opportunitystate SET until = {_NOW}
            WHERE opportunity_id = NEW.id AND until IS NULL;
        INSERT INTO kpis_opportunitystate
            (opportunity_id, since, until, {_COLUMNS}, recorded_at, recorded_by_id)
        VALUES (NEW.id, {_NOW}, NULL, {_NEW}, {_NOW}, salesperf_actor());
    END""",
    # The close-date rule (PostgreSQL: migration 0006's trigger).
    "DROP TRIGGER IF EXISTS opportunity_close_date_follows_stage_insert",
    "DROP TRIGGER IF EXISTS opportunity_close_date_follows_stage_update",
    *[
        f"""CREATE TRIGGER opportunity_close_date_follows_stage_{event.split()[0].lower()}
        BEFORE {event} ON kpis_opportunity
        WHEN ((SELECT outcome FROM kpis_stage WHERE id = NEW.stage_id) = 'open')
             = (NEW.closed_on IS NOT NULL) BEGIN
            SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_close_date_follows_stage');
        END"""
        for event in ("INSERT", "UPDATE OF stage_id, closed_on")
    ],
]


def install_triggers(using=None, **kwargs):
    """(Re)install the triggers; a post_migrate receiver."""
    from django.db import connections

    conn = connections[using or "default"]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(POSTGRESQL, params=None)  # the SQL has % of its own
        elif conn.vendor == "sqlite":
            for statement in SQLITE:
                cursor.execute(statement)


# --- who made a change ---------------------------------------------------------------------------


def register_sqlite_actor(sender, connection, **kwargs):
    """A connection_created receiver: SQLite's triggers call salesperf_actor()."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("salesperf_actor", 0, _actor_id, deterministic=False)


_WRITES_DEALS = ('INSERT INTO "KPIS_OPPORTUNITY" ', 'UPDATE "KPIS_OPPORTUNITY" ')


def _tell_postgresql(execute, sql, params, many, context):
    """Before a statement that writes opportunities, the session's actor is the current one (set
    every time: a rolled-back savepoint takes a setting back with it)."""
    if sql.lstrip()[:32].upper().startswith(_WRITES_DEALS):
        actor = _actor_id()
        context["cursor"].execute("SELECT set_config('salesperf.actor', %s, false)", [str(actor or "")])
        context["connection"].salesperf_actor_set = True
    return execute(sql, params, many, context)


@contextlib.contextmanager
def recorded_by(user):
    """Changes to deals made inside are recorded as made by `user` (None or anonymous: nobody)."""
    token = _actor.set(user)
    try:
        if connection.vendor != "postgresql":
            yield
            return
        with connection.execute_wrapper(_tell_postgresql):
            yield
    finally:
        _actor.reset(token)
        if getattr(connection, "salesperf_actor_set", False):  # the next user of the connection
            connection.salesperf_actor_set = False
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('salesperf.actor', '', false)")


class RecordedByMiddleware:
    """Every request's changes to deals are recorded as its user's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with recorded_by(getattr(request, "user", None)):
            return self.get_response(request)


# --- loaders that know the past -----------------------------------------------------------------


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight of a day: a loaded state's `since`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def states_load(states: list[OpportunityState], *, batch_size: int = 10_000) -> None:
    """Replace the history of the deals these states belong to with them (each deal's states in
    order: the first with `since` None, the last with `until` None). For a loader that knows a
    deal's past; the rows the trigger wrote when it inserted the deals go."""
    ids = {state.opportunity_id for state in states}
    for chunk in chunks(sorted(ids), batch_size):
        OpportunityState.objects.filter(opportunity_id__in=chunk).delete()
    OpportunityState.objects.bulk_create(states, batch_size=batch_size)


def chunks(items: list, size: int):
    """`size` items at a time (an `__in` list: SQLite takes only so many parameters a query)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
