"""Who may open which page, for the cases the permission matrix (tests/security/
test_permission_matrix.py: every page × anonymous, rep, other rep, manager, other manager, admin)
leaves out: the login's redirects, someone with no role, a manager of the region (`boss`), and
nonsense parameters."""

import pytest

pytestmark = pytest.mark.django_db


def user_of(org, who):
    rep = getattr(org, who, None)
    return rep.user if hasattr(rep, "user") else rep


def test_the_login_page_logs_in_and_home_sends_each_role_where_it_belongs(client, org):
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == "/scorecard/"
    for who, where in [("east_manager", "/dashboard/"), ("admin", "/dashboard/"), ("boss", "/dashboard/")]:
        client.force_login(user_of(org, who))
        assert client.get("/")["Location"] == where


def test_someone_with_no_role_gets_a_page_that_says_so(client, org):
    client.force_login(org.outsider)
    assert b"neither a rep nor a team manager" in client.get("/").content
    assert client.get("/scorecard/").status_code == 404
    assert client.get("/dashboard/").status_code == 404


def test_logging_out_takes_a_post_and_ends_the_session(client, org):
    client.force_login(org.alice.user)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/scorecard/").status_code == 302


# (who, whose scorecard, status)
SCORECARDS = [
    ("boss", "carol", 200),
    ("outsider", "alice", 404),
]


@pytest.mark.parametrize(("who", "whose", "status"), SCORECARDS)
def test_scorecards_follow_the_visibility_rule(client, sales, who, whose, status):
    client.force_login(user_of(sales, who))
    assert client.get(f"/scorecard/{getattr(sales, whose).pk}/").status_code == status


@pytest.mark.parametrize(("who", "whose", "status"), SCORECARDS)
def test_drill_downs_follow_the_visibility_rule(client, sales, who, whose, status):
    client.force_login(user_of(sales, who))
    rep = getattr(sales, whose)
    url = f"/drill/?scope=rep&subject={rep.pk}&metric=revenue_won&period=2017-Q1"
    assert client.get(url).status_code == status


# (who, which team, status)
DASHBOARDS = [
    ("east_manager", "region", 404),
    ("boss", "region", 200),
    ("boss", "west", 200),
]


@pytest.mark.parametrize(("who", "team", "status"), DASHBOARDS)
def test_dashboards_follow_the_visibility_rule(client, sales, who, team, status):
    client.force_login(user_of(sales, who))
    assert client.get(f"/dashboard/?team={getattr(sales, team).pk}").status_code == status


@pytest.mark.parametrize(("who", "team", "status"), DASHBOARDS)
def test_team_drill_downs_follow_the_visibility_rule(client, sales, who, team, status):
    client.force_login(user_of(sales, who))
    url = f"/drill/?scope=team&subject={getattr(sales, team).pk}&metric=calls_made&period=2017-03"
    assert client.get(url).status_code == status


def test_a_region_manager_does_not_see_the_company(client, sales):
    client.force_login(sales.boss)
    url = "/drill/?scope=company&subject=0&metric=revenue_won&period=2017-Q1"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/ops/recompute/", "/ops/recompute/status/", "/ops/import/"])
def test_admin_pages_are_refused_to_a_region_manager(client, org, url):
    client.force_login(org.boss)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("bad", ["period=2017-Q9", "metric=nope", "scope=rep&subject=x"])
def test_a_drill_down_with_nonsense_parameters_is_not_found(client, sales, bad):
    client.force_login(sales.admin)
    params = dict(
        p.split("=") for p in ["scope=company", "subject=0", "metric=revenue_won", "period=2017-Q1"]
    )
    params.update(dict(p.split("=") for p in bad.split("&")))
    assert client.get("/drill/", params).status_code == 404
