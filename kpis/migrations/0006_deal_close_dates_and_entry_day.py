# A deal's close date follows its stage (set exactly when won or lost), and every deal has the day
# it entered the pipeline: created_on, or where that is unknown the day it was first recorded.

import django.db.models.functions.comparison
from django.db import migrations, models

import kpis.models

OPEN = "open"


def close_dates_follow_stages(apps, schema_editor):
    """Existing rows that break the rule: an open deal with a close date was reopened (the date
    goes); a won or lost one without is taken as closed on the day it is first seen closed."""
    Opportunity = apps.get_model("kpis", "Opportunity")
    Opportunity.objects.filter(stage__outcome=OPEN, closed_on__isnull=False).update(closed_on=None)
    Opportunity.objects.exclude(stage__outcome=OPEN).filter(closed_on__isnull=True).update(
        closed_on=models.F("recorded_on")
    )


# PostgreSQL refuses any write that breaks the rule, bulk loads included. (SQLite, the laptop
# default, relies on Opportunity.save/clean and the loaders: its table rebuilds would drop a trigger.)
TRIGGER = """
CREATE FUNCTION kpis_opportunity_close_date_follows_stage() RETURNS trigger AS $$
BEGIN
    IF (SELECT outcome FROM kpis_stage WHERE id = NEW.stage_id) = 'open' THEN
        IF NEW.closed_on IS NOT NULL THEN
            RAISE EXCEPTION 'an open deal has no close date (opportunity %)', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'opportunity_close_date_follows_stage';
        END IF;
    ELSIF NEW.closed_on IS NULL THEN
        RAISE EXCEPTION 'a won or lost deal needs its close date (opportunity %)', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'opportunity_close_date_follows_stage';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER opportunity_close_date_follows_stage
    BEFORE INSERT OR UPDATE OF stage_id, closed_on ON kpis_opportunity
    FOR EACH ROW EXECUTE FUNCTION kpis_opportunity_close_date_follows_stage();
"""
DROP_TRIGGER = """
DROP TRIGGER IF EXISTS opportunity_close_date_follows_stage ON kpis_opportunity;
DROP FUNCTION IF EXISTS kpis_opportunity_close_date_follows_stage();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER, params=None)  # the SQL has % of its own


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("kpis", "0005_snapshot_state"),
        ("teams", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="opportunity",
            name="recorded_on",
            field=models.DateField(
                default=kpis.models.today, editable=False, help_text="The day salesperf first recorded the deal."
            ),
        ),
        migrations.AddField(
            model_name="opportunity",
            name="opened_on",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Coalesce(
                    "created_on",
                    django.db.models.functions.comparison.Least("recorded_on", "closed_on"),
                    "recorded_on",
                ),
                output_field=models.DateField(),
            ),
        ),
        migrations.AlterField(
            model_name="opportunity",
            name="closed_on",
            field=models.DateField(
                blank=True, help_text="Won or lost on: set exactly when the stage is won or lost.", null=True
            ),
        ),
        migrations.RemoveIndex(model_name="opportunity", name="kpis_opport_rep_id_e626cd_idx"),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["rep", "opened_on"], name="kpis_opport_rep_id_25c21a_idx"),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["opened_on"], name="kpis_opport_opened__44d809_idx"),
        ),
        migrations.RunPython(close_dates_follow_stages, migrations.RunPython.noop),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
