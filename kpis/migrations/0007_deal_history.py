# Deal history: OpportunityState rows, one per change, written by triggers that kpis.apps installs
# after every migrate (kpis.deal_history). Every existing deal starts with its current state.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


FIRST_STATES = """
INSERT INTO kpis_opportunitystate
    (opportunity_id, since, until, stage_id, amount, closed_on, expected_close_on, rep_id,
     recorded_at, recorded_by_id)
SELECT id, NULL, NULL, stage_id, amount, closed_on, expected_close_on, rep_id, CURRENT_TIMESTAMP, NULL
FROM kpis_opportunity
"""


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0006_deal_close_dates_and_entry_day'),
        ('teams', '0003_no_cycle_at_any_date'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='opportunity',
            name='expected_close_on',
            field=models.DateField(blank=True, help_text='The day the rep expects to close it (open deals).', null=True),
        ),
        migrations.CreateModel(
            name='OpportunityState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('since', models.DateTimeField(blank=True, help_text='Empty: since the deal was opened.', null=True)),
                ('until', models.DateTimeField(blank=True, help_text='Empty: still.', null=True)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                ('closed_on', models.DateField(blank=True, null=True)),
                ('expected_close_on', models.DateField(blank=True, null=True)),
                ('recorded_at', models.DateTimeField()),
                ('opportunity', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='states', to='kpis.opportunity')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('rep', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='teams.rep')),
                ('stage', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='kpis.stage')),
            ],
            options={
                'ordering': ['opportunity', models.OrderBy(models.F('since'), nulls_first=True), 'recorded_at'],
                'indexes': [models.Index(fields=['since'], name='kpis_opport_since_02262b_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('until__isnull', True)), fields=('opportunity',), name='opportunity_one_current_state'), models.CheckConstraint(condition=models.Q(('since__isnull', True), ('until__isnull', True), ('until__gte', models.F('since')), _connector='OR'), name='opportunity_state_until_after_since')],
            },
        ),
        migrations.RunSQL(FIRST_STATES, migrations.RunSQL.noop),
    ]
