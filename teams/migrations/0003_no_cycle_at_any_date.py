# No team sits below itself on any day: PostgreSQL checks a team's placements against every day
# the tree changed, for every writer (teams.history refuses the same on any database).

from django.db import migrations

TRIGGER = """
CREATE FUNCTION teams_placement_no_cycle() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        WITH RECURSIVE days (day) AS (
            SELECT DISTINCT since FROM teams_placement WHERE since IS NOT NULL
            UNION SELECT '-infinity'::date
        ), walk (day, team, depth) AS (
            SELECT d.day, p.parent_id, 1 FROM days d JOIN teams_placement p ON p.team_id = NEW.team_id
                AND (p.since IS NULL OR p.since <= d.day) AND (p.until IS NULL OR d.day < p.until)
            UNION ALL
            SELECT w.day, p.parent_id, w.depth + 1 FROM walk w JOIN teams_placement p ON p.team_id = w.team
                AND (p.since IS NULL OR p.since <= w.day) AND (p.until IS NULL OR w.day < p.until)
            WHERE w.team <> NEW.team_id AND w.depth < 1000
        )
        SELECT 1 FROM walk WHERE team = NEW.team_id
    ) THEN
        RAISE EXCEPTION 'team % would sit below itself on some day', NEW.team_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'placement_no_cycle';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER placement_no_cycle AFTER INSERT OR UPDATE ON teams_placement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION teams_placement_no_cycle();
"""
DROP = """
DROP TRIGGER IF EXISTS placement_no_cycle ON teams_placement;
DROP FUNCTION IF EXISTS teams_placement_no_cycle();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("teams", "0002_dated_memberships_and_placements")]

    operations = [migrations.RunPython(create, drop)]
