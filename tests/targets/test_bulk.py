"""Targets written in bulk (issue 20, target 4): a batch takes the same statements whatever its
size, keeps a full history, reads its baselines at once; a single save reads only the branch of
the tree above its subject, and answers as the whole tree would."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis.periods import Period
from targets.models import Notification, Target
from targets.services import (
    TargetChange,
    may_set_targets_for,
    target_delete,
    target_delete_batch,
    target_save,
    target_save_batch,
)
from teams.tree import TeamTree
from tests.factories import RepFactory

MONTHS = Period.parse("2017").months()


def cells(reps, value) -> list[TargetChange]:
    return [
        TargetChange("rep", rep.pk, "revenue_won", month, value=value) for rep in reps for month in MONTHS
    ]


def statements(user, changes) -> int:
    tree = TeamTree.load()
    with CaptureQueriesContext(connection) as queries:
        target_save_batch(user=user, changes=changes, tree=tree, replace=True)
    return len(queries)


@pytest.fixture
def postgresql():
    """SQLite takes at most 999 parameters a statement, so Django splits a bulk insert there into
    one statement per 70-odd targets; PostgreSQL takes a batch in one."""
    if connection.vendor != "postgresql":
        pytest.skip("one statement per bulk insert: PostgreSQL")


def test_a_batch_of_300_cells_takes_the_statements_of_a_batch_of_10(org, postgresql):
    reps = RepFactory.create_batch(26, team=org.east)
    grid = cells(reps, "100")
    small, large = grid[:10], grid[12:312]

    new = statements(org.east_manager, small), statements(org.east_manager, large)
    changed = (
        statements(org.east_manager, cells(reps, "200")[:10]),
        statements(org.east_manager, cells(reps, "200")[12:312]),
    )

    # Savepoints (4), the reps' teams, the targets already set, one insert or upsert of the
    # targets, one of their history.
    assert new[0] == new[1] <= 8
    assert changed[0] == changed[1] <= 8
    assert Target.objects.count() == 310
    assert Target.history.filter(history_type="+").count() == 310
    assert Target.history.filter(history_type="~").count() == 310
    assert set(Target.objects.values_list("value", flat=True)) == {D(200)}


def test_a_grid_of_1440_cells_posts_with_the_statements_of_a_grid_of_24(org, big_team, client, postgresql):
    def post(user, team, reps, value):
        client.force_login(user)
        form = {f"c-{rep.pk}-{month.label}": value for rep in reps for month in MONTHS}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/targets/grid/?team={team.pk}&metric=revenue_won&year=2017", form)
        assert response.status_code == 302
        return len(queries)

    small = post(org.east_manager, org.east, [org.alice, org.bob], "50")
    large = post(big_team.manager, big_team.team, big_team.reps, "50")
    assert small == large
    assert Target.objects.filter(rep__team=big_team.team).count() == len(big_team.reps) * 12 == 1440

    # Every cell emptied: every target deleted, as few statements for many.
    assert post(org.east_manager, org.east, [org.alice, org.bob], "") == post(
        big_team.manager, big_team.team, big_team.reps, ""
    )
    assert not Target.objects.exists()
    assert Target.history.filter(history_type="-").count() == 24 + 1440


def test_deleting_targets_in_a_batch_keeps_their_history_and_drops_their_notifications(org):
    saved = target_save_batch(
        user=org.east_manager, changes=cells([org.alice, org.bob], "100"), tree=TeamTree.load()
    )
    Notification.objects.create(user=org.alice.user, target=saved[0], message="Alice is behind")
    Notification.objects.create(user=org.alice.user, message="not about a target")

    target_delete_batch(user=org.boss, targets=saved[:13], tree=TeamTree.load())

    assert [t.rep for t in Target.objects.all()] == [org.bob] * 11
    gone = Target.history.filter(history_type="-")
    assert {(h.id, h.history_user, h.value) for h in gone} == {(t.pk, org.boss, D(100)) for t in saved[:13]}
    assert list(Notification.objects.values_list("message", flat=True)) == ["not about a target"]


def test_a_batch_delete_with_one_target_the_user_may_not_delete_deletes_none(org):
    saved = target_save_batch(
        user=org.boss, changes=cells([org.alice, org.carol], "100")[::12], tree=TeamTree.load()
    )

    with pytest.raises(ValidationError) as refused:
        target_delete_batch(user=org.east_manager, targets=saved, tree=TeamTree.load())

    assert refused.value.message_dict == {
        "subject": [f"There is no rep {org.carol.pk} you may set targets for."]
    }
    assert Target.objects.count() == 2 and not Target.history.filter(history_type="-").exists()


def test_a_batch_keeps_who_changed_each_target_when_and_to_what(org):
    january, february = MONTHS[0], MONTHS[1]
    target_save_batch(
        user=org.east_manager,
        changes=[
            TargetChange("rep", org.alice.pk, "revenue_won", january, value="100"),
            TargetChange("rep", org.bob.pk, "revenue_won", january, value="200"),
        ],
        tree=TeamTree.load(),
    )
    target_save_batch(
        user=org.boss,
        changes=[
            TargetChange("rep", org.alice.pk, "revenue_won", january, value="150"),
            TargetChange("rep", org.bob.pk, "revenue_won", february, value="300"),
        ],
        tree=TeamTree.load(),
        replace=True,
    )

    alices = Target.objects.get(rep=org.alice)
    history = alices.history.order_by("history_date", "history_id")
    assert [
        (h.history_type, h.history_user, h.value, h.created_by, h.history_change_reason) for h in history
    ] == [
        ("+", org.east_manager, D(100), org.east_manager, None),
        ("~", org.boss, D(150), org.east_manager, None),
    ]
    [change] = history[1].diff_against(history[0]).changes
    assert (change.field, change.old, change.new) == ("value", D(100), D(150))
    # One batch, one moment: Alice's change and Bob's new February share their time.
    bobs_february = Target.objects.get(rep=org.bob, period_start=february.start).history.get()
    assert (bobs_february.history_type, bobs_february.history_user) == ("+", org.boss)
    assert bobs_february.history_date == history[1].history_date
    assert alices.updated_at >= history[1].history_date


def test_a_target_twice_in_a_batch_is_set_once_to_its_last_value(org):
    twice = [
        TargetChange("rep", org.alice.pk, "revenue_won", "2017-01", value="100"),
        TargetChange("rep", org.alice.pk, "revenue_won", "2017-01", value="150"),
    ]

    first, second = target_save_batch(user=org.east_manager, changes=twice, tree=TeamTree.load())

    assert first is second and first.value == D(150)
    assert [(h.history_type, h.value) for h in Target.history.all()] == [("+", D(150))]


def test_the_baselines_of_a_batch_are_read_in_one_query(org, deal, recompute):
    """Won in 2017-Q1: Alice 1000, Bob 2000. Q2 at +10% and −5%: 1,100 and 1,900."""
    deal(org.alice, "won", "1000", "2017-01-02", "2017-01-20")
    deal(org.bob, "won", "2000", "2017-01-02", "2017-02-20")
    recompute()

    def relative(rep, period, uplift):
        return TargetChange("rep", rep.pk, "revenue_won", period, baseline="2017-Q1", uplift_pct=uplift)

    one = statements(org.east_manager, [relative(org.alice, "2017-Q2", "10")])
    two = statements(
        org.east_manager, [relative(org.alice, "2017-Q3", "10"), relative(org.bob, "2017-Q3", "-5")]
    )

    assert one == two
    assert {(t.rep, t.period.label): t.value for t in Target.objects.all()} == {
        (org.alice, "2017-Q2"): D(1100),
        (org.alice, "2017-Q3"): D(1100),
        (org.bob, "2017-Q3"): D(1900),
    }


@pytest.fixture
def no_whole_tree(monkeypatch):
    """From now on, loading the whole team tree fails the test."""

    def load(cls):
        pytest.fail("TeamTree.load(): a single save read the whole tree")

    return lambda: monkeypatch.setattr(TeamTree, "load", classmethod(load))


def test_a_single_save_decides_as_the_whole_tree_would_without_loading_it(org, no_whole_tree):
    users = [org.boss, org.east_manager, org.west_manager, org.admin, org.outsider, org.alice.user]
    subjects = [
        *(("rep", r.pk) for r in (org.alice, org.bob, org.carol)),
        *(("team", t.pk) for t in (org.region, org.east, org.west)),
        ("company", 0),
        ("rep", 999_999),
        ("team", 999_999),
    ]
    whole = TeamTree.load()
    expected = {(u, s): may_set_targets_for(u, *s, tree=whole) for u in users for s in subjects}
    no_whole_tree()

    answers = {(u, s): may_set_targets_for(u, *s) for u in users for s in subjects}

    assert answers == expected
    # A region's manager sets a target two levels down; a team's manager not its neighbour's.
    assert expected[org.boss, ("rep", org.carol.pk)] and not expected[org.east_manager, ("rep", org.carol.pk)]


def test_a_single_save_and_delete_read_only_the_subjects_branch(org, no_whole_tree, deal, recompute):
    deal(org.alice, "won", "1000", "2017-01-02", "2017-01-20")
    recompute()
    no_whole_tree()

    relative = target_save(
        user=org.boss,
        scope="rep",
        subject_id=org.alice.pk,
        metric="revenue_won",
        period="2017-Q2",
        baseline="2017-Q1",
        uplift_pct="20",
    )
    team = target_save(
        user=org.east_manager,
        scope="team",
        subject_id=org.east.pk,
        metric="deals_won",
        period="2017-Q2",
        value="4",
    )
    with pytest.raises(ValidationError) as refused:
        target_save(
            user=org.east_manager,
            scope="rep",
            subject_id=org.carol.pk,
            metric="deals_won",
            period="2017-Q2",
            value="1",
        )
    target_delete(user=org.east_manager, target=team)

    assert relative.value == D(1200)
    assert refused.value.message_dict == {
        "subject": [f"There is no rep {org.carol.pk} you may set targets for."]
    }
    assert list(Target.objects.all()) == [relative]


@pytest.mark.parametrize("subject_id", [0, -1, None])
def test_a_single_save_for_no_possible_subject_is_the_usual_refusal(org, subject_id):
    with pytest.raises(ValidationError) as refused:
        target_save(
            user=org.boss, scope="rep", subject_id=subject_id, metric="deals_won", period="2017-Q2", value="1"
        )

    assert refused.value.message_dict == {
        "subject": [f"There is no rep {subject_id} you may set targets for."]
    }
    assert not Target.objects.exists()


def test_notifications_are_the_one_thing_a_deleted_target_takes_with_it():
    """target_delete_batch deletes them itself, without Django's collector (whose post_delete
    signals would write the history one row at a time): a new relation to Target goes there too."""
    relations = [f for f in Target._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete]
    assert [(f.related_model, f.on_delete.__name__) for f in relations] == [(Notification, "CASCADE")]
