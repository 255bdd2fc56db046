"""One number format everywhere: money with the currency and thousands separators, ratios as
percentages, days with one decimal — on pages, in the admin's lists and in the drill-down."""

from decimal import Decimal

import pytest
from django.conf import settings

from kpis.templatetags.kpis_tags import format_money, format_value
from targets.services import target_save

pytestmark = pytest.mark.django_db


def test_the_one_format_by_unit():
    c = settings.CURRENCY
    assert format_value(Decimal("19608.38"), "money") == f"{c} 19,608"
    assert format_money(Decimal("19608.38"), cents=True) == f"{c} 19,608.38"
    assert format_value(Decimal("0.631543"), "ratio") == "63.2%"
    assert format_value(Decimal("41.456"), "days") == "41.5 d"
    assert format_value(Decimal("12500"), "count") == "12,500"
    assert format_value(Decimal("-20.000000"), "score") == "-20"


def test_the_admins_snapshot_and_target_lists_show_figures_as_the_pages_do(client, sales):
    target_save(
        user=sales.admin,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-03",
        value="20000",
    )
    client.force_login(sales.admin)
    html = client.get("/admin/targets/target/").content.decode()
    assert f"{settings.CURRENCY} 20,000" in html and "20000.000000" not in html
    html = client.get("/admin/kpis/kpisnapshot/?metric=revenue_won&q=Alice").content.decode()
    assert f"{settings.CURRENCY} 3,000" in html and ">3000.000000<" not in html


def test_the_drill_downs_amounts_carry_the_currency_and_cents(client, sales):
    client.force_login(sales.alice.user)
    html = client.get(
        f"/drill/?scope=rep&subject={sales.alice.pk}&metric=revenue_won&period=2017-03"
    ).content.decode()
    assert f"{settings.CURRENCY} 3,000.00" in html and ">3000.00<" not in html
