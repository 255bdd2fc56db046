"""factory_boy factories for every model; tests build only the rows they assert on."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)
from targets.models import Target
from teams.models import Rep, Team, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class RepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rep

    user = factory.SubFactory(UserFactory)
    full_name = factory.Sequence(lambda n: f"Rep {n}")
    team = factory.SubFactory(TeamFactory)


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage
        django_get_or_create = ("name",)

    name = "Engaging"
    order = 2
    probability = Decimal("0.4")
    outcome = Stage.Outcome.OPEN


def won_stage():
    return StageFactory(name="Won", order=9, probability=Decimal("1"), outcome=Stage.Outcome.WON)


def lost_stage():
    return StageFactory(name="Lost", order=10, probability=Decimal("0"), outcome=Stage.Outcome.LOST)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    rep = factory.SubFactory(RepFactory)
    stage = factory.SubFactory(StageFactory)
    amount = Decimal("1000.00")
    created_on = dt.date(2017, 1, 10)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"Lead {n}")
    rep = factory.SubFactory(RepFactory)
    created_on = dt.date(2017, 1, 10)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    rep = factory.SubFactory(RepFactory)
    kind = Activity.Kind.CALL
    occurred_at = factory.LazyFunction(lambda: timezone.now())


class NpsResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NpsResponse

    customer = factory.SubFactory(CustomerFactory)
    responded_on = dt.date(2017, 1, 10)
    score = 9


class AcquisitionSpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcquisitionSpend

    spent_on = dt.date(2017, 1, 10)
    amount = Decimal("100.00")


class ForecastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForecastSubmission

    scope = "rep"
    period_kind = "month"
    period_start = dt.date(2017, 1, 1)
    amount = Decimal("1000.00")
    submitted_at = factory.LazyFunction(lambda: timezone.make_aware(dt.datetime(2016, 12, 20)))


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    scope = "rep"
    metric = "revenue_won"
    period_kind = "month"
    period_start = dt.date(2017, 1, 1)
    value = Decimal("1000")


class KpiSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiSnapshot

    scope = "company"
    subject_id = 0
    metric = "revenue_won"
    period_kind = "month"
    # One month after another, so that several snapshots never share the unique key.
    period_start = factory.Sequence(lambda n: dt.date(2000 + n // 12, n % 12 + 1, 1))
    numerator = Decimal("1000")
    value = Decimal("1000")
    computed_at = factory.LazyFunction(lambda: timezone.now())
