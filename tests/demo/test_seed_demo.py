"""seed_demo: reproducible demo data for every model, demo logins that work, nothing in the future."""

import datetime as dt
import hashlib
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from demo.shape import allocate
from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    ImportMapping,
    Job,
    JobFile,
    KpiPart,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
)
from targets.models import AlertSettings, Notification, Target
from teams.history import Org
from teams.models import Rep, User
from tests.factories import RepFactory, UserFactory

# Written by the app as it runs, not data a demo seeds: snapshots and the parts of a rep's figure
# a move splits (recompute_kpis), alerts (the daily check), background jobs; or rows only once a
# user makes them: alert settings (no row: every alert on), saved import mappings.
DERIVED = {KpiSnapshot, KpiPart, Notification, AlertSettings, Job, JobFile, ImportMapping}
SMALL = ["--reps", "6", "--opportunities", "300", "--activities", "600", "--months", "6"]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *SMALL, *args, stdout=out)
    return out.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^ +(admin|manager|rep) +(\S+)", output, re.MULTILINE))


def digest(queryset, *fields) -> str:
    rows = queryset.order_by(*fields).values_list(*fields)
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def opportunity_digest() -> str:
    return digest(
        Opportunity.objects.all(),
        "external_id",
        "name",
        "rep__full_name",
        "customer__name",
        "product",
        "stage__name",
        "amount",
        "created_on",
        "closed_on",
    )


def activity_digest() -> str:
    return digest(
        Activity.objects.all(), "occurred_at", "rep__full_name", "kind", "opportunity__external_id", "subject"
    )


@pytest.mark.django_db
def test_it_gives_every_model_rows():
    seed()

    empty = [
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in {"teams", "kpis", "targets"}
        and model not in DERIVED
        and not model.objects.exists()
    ]
    assert empty == []
    assert Rep.objects.count() == 6
    assert Opportunity.objects.count() == 300
    assert Activity.objects.count() == 600


@pytest.mark.django_db
def test_the_same_seed_and_sizes_give_the_same_data():
    seed()
    first = opportunity_digest(), activity_digest()

    seed("--flush")
    assert (opportunity_digest(), activity_digest()) == first

    seed("--flush", "--seed", "7")
    assert opportunity_digest() != first[0]


@pytest.mark.django_db
def test_the_demo_logins_work_with_the_printed_passwords(client):
    passwords = printed_passwords(seed())

    assert sorted(passwords) == ["admin", "manager", "rep"]
    for username, password in passwords.items():
        assert authenticate(username=username, password=password) is not None, username
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.filter(username__in=["manager", "rep"], is_staff=True).exists()
    assert client.login(username="admin", password=passwords["admin"])
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_passwords_follow_from_the_seed():
    first = printed_passwords(seed())
    assert printed_passwords(seed("--flush")) == first
    assert printed_passwords(seed("--flush", "--seed", "7")) != first


@pytest.mark.django_db
def test_the_manager_manages_a_region_that_holds_the_rep():
    seed()
    manager, rep = User.objects.get(username="manager"), Rep.objects.get(user__username="rep")

    region = manager.managed_teams.get()
    assert region.parent is None
    assert rep.team.parent == region
    assert rep in Rep.objects.visible_to(manager)
    assert Rep.objects.visible_to(manager).count() > 1
    assert list(Rep.objects.visible_to(rep.user)) == [rep]


@pytest.mark.django_db
def test_nothing_is_dated_after_today_and_this_month_has_data():
    seed()
    today, now = timezone.localdate(), timezone.now()
    this_month = today.replace(day=1)

    dates = [
        *Opportunity.objects.aggregate(Max("created_on"), Max("closed_on")).values(),
        *Lead.objects.aggregate(Max("created_on"), Max("converted_on")).values(),
        *Customer.objects.aggregate(Max("acquired_on"), Max("churned_on")).values(),
        NpsResponse.objects.aggregate(Max("responded_on"))["responded_on__max"],
        AcquisitionSpend.objects.aggregate(Max("spent_on"))["spent_on__max"],
        ForecastSubmission.objects.aggregate(Max("period_start"))["period_start__max"],
        Target.objects.aggregate(Max("period_start"))["period_start__max"],
    ]
    assert max(d for d in dates if d) <= today
    assert Activity.objects.aggregate(Max("occurred_at"))["occurred_at__max"] <= now
    assert ForecastSubmission.objects.aggregate(Max("submitted_at"))["submitted_at__max"] <= now
    assert Target.objects.filter(period_start=this_month).exists()
    assert ForecastSubmission.objects.filter(period_start=this_month).exists()
    assert Opportunity.objects.filter(
        closed_on=None, created_on__gte=this_month - dt.timedelta(days=31)
    ).exists()
    first_month = (this_month - dt.timedelta(days=5 * 31)).replace(day=1)  # six months, this one last
    assert Opportunity.objects.aggregate(Min("created_on"))["created_on__min"] >= first_month


@pytest.mark.django_db
def test_the_rows_keep_every_rule():
    seed()
    deals = Opportunity.objects.all()

    assert not deals.filter(closed_on__lt=F("created_on")).exists()
    assert not deals.filter(stage__outcome__in=["won", "lost"], closed_on=None).exists()
    assert not deals.filter(stage__outcome="open").exclude(closed_on=None).exists()
    assert not deals.filter(amount__lt=0).exists()
    assert all(
        amount == amount.quantize(Decimal("0.01")) for amount in deals.values_list("amount", flat=True)
    )
    assert not Lead.objects.filter(converted_on__lt=F("created_on")).exists()
    assert not Lead.objects.filter(
        Q(converted_on=None, customer__isnull=False) | Q(converted_on__isnull=False, customer=None)
    ).exists()
    assert not Customer.objects.filter(churned_on__lt=F("acquired_on")).exists()
    assert not Customer.objects.filter(churned_on__isnull=False, acquired_on=None).exists()
    assert not NpsResponse.objects.filter(Q(score__lt=0) | Q(score__gt=10)).exists()
    assert not AcquisitionSpend.objects.filter(rep__isnull=False, team__isnull=False).exists()
    assert all(
        submitted.date() < start
        for submitted, start in ForecastSubmission.objects.values_list("submitted_at", "period_start")
    )
    assert all(
        8 <= timezone.localtime(at).hour < 18 for at in Activity.objects.values_list("occurred_at", flat=True)
    )
    assert set(Activity.objects.values_list("kind", flat=True)) == {"call", "email", "meeting"}


@pytest.mark.django_db
def test_this_quarters_team_revenue_targets_grow_ten_percent_from_last_quarter():
    seed()
    relative = Target.objects.exclude(baseline_start=None)
    org = Org.load()

    assert relative.exists()
    for target in relative.select_related("team"):
        assert (target.scope, target.metric, target.period_kind) == ("team", "revenue_won", "quarter")
        assert target.baseline_start == (target.period_start - dt.timedelta(days=80)).replace(day=1)
        # What the team was credited with: the deals of its reps while in it, or in a team below it.
        deals = Opportunity.objects.filter(
            stage__outcome="won", closed_on__gte=target.baseline_start, closed_on__lt=target.period_start
        ).values_list("rep_id", "closed_on", "amount")
        won = sum(
            (amount for rep, day, amount in deals if target.team_id in org.chain(org.team_of(rep, day), day)),
            Decimal(0),
        )
        assert target.value == won * Decimal("1.1")


@pytest.mark.django_db
def test_win_rates_and_lead_conversion_look_like_a_sales_team():
    seed("--opportunities", "3000")
    won = Opportunity.objects.filter(stage__outcome="won").count()
    lost = Opportunity.objects.filter(stage__outcome="lost").count()
    converted = Lead.objects.exclude(converted_on=None).count()

    assert 0.2 <= won / (won + lost) <= 0.35
    assert 0.15 <= converted / Lead.objects.count() <= 0.4
    assert Opportunity.objects.filter(stage__outcome="open").exists()
    assert Customer.objects.exclude(churned_on=None).exists()


@pytest.mark.django_db
def test_it_refuses_a_database_that_already_has_reps():
    RepFactory()

    with pytest.raises(CommandError, match="--flush"):
        seed()
    assert not Opportunity.objects.exists()


@pytest.mark.django_db
def test_it_refuses_to_seed_twice_without_flush():
    seed()

    with pytest.raises(CommandError, match="--flush"):
        seed()
    assert Opportunity.objects.count() == 300


@pytest.mark.django_db
def test_flush_replaces_the_demo_data_and_keeps_other_users():
    seed()
    bystander = UserFactory(username="bystander")

    seed("--flush", "--opportunities", "100")

    assert Opportunity.objects.count() == 100
    assert Rep.objects.count() == 6
    assert User.objects.filter(pk=bystander.pk).exists()


@pytest.mark.django_db
def test_it_prints_progress_per_model():
    output = seed()

    assert re.search(r"opportunities +300 / 300", output)
    assert re.search(r"activities +600 / 600", output)
    assert re.search(r"customers +[\d,]+ / [\d,]+", output)


@pytest.mark.django_db
def test_it_hands_over_to_recompute_kpis(recompute_calls):
    seed()

    assert recompute_calls == ["recompute_kpis"]


def test_allocate_splits_a_total_exactly_and_in_proportion():
    assert allocate(10, [1, 1, 2]) == [3, 2, 5]
    assert sum(allocate(1_000_003, [0.3, 1.7, 0, 5.2])) == 1_000_003
    assert allocate(5, [0, 1, 0]) == [0, 5, 0]
    assert allocate(0, [1, 2]) == [0, 0]
