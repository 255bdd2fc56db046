"""API serializers for teams and reps, and the two pieces every API serializer builds on.

- `VisibleRelatedField`: a related id is accepted only when the requesting user may see that
  row, so a write can never point outside what its author sees; any other id reads as "does
  not exist" (400), whether it exists or not.
- `ModelCleanSerializer`: validates like a ModelForm, through the model's `full_clean` (field
  validators, `clean()`, unique and check constraints), so a bad write is a 400 with field
  errors instead of an IntegrityError.

A rep's team and a team's parent are history (teams.history): `DatedMoveSerializer` takes an
optional `effective` date for a change of them, checks it before anything is written and saves
through the model, which records the dated move. Each reads its history back read-only.
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from salesperf.api import field_errors

from .history import membership_errors, placement_errors
from .models import Membership, Placement, Rep, Team, User


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, looked up among the rows of `model` the user may see
    (`model.objects.visible_to(user)`)."""

    default_error_messages = {"does_not_exist": "Unknown id {pk_value}, or not one you may use."}

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(self.context["request"].user)


class BlankIsNullMixin:
    """An empty external id is no external id (they are unique when given)."""

    def validate_external_id(self, value):
        return value or None


class ModelCleanSerializer(serializers.ModelSerializer):
    def requesting_user(self):
        return self.context["request"].user

    def current(self, attrs, name):
        """A field's value after this write: the new one, else the stored one."""
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # A copy, so that a refused write leaves the stored instance as it was.
        instance = copy.copy(self.instance) if self.instance else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            self.clean_instance(instance)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None
        return attrs

    def clean_instance(self, instance):
        """The model's full_clean. A batch (kpis.bulk) checks uniqueness and constraints for all
        its rows at once instead of with a query per row."""
        instance.full_clean()


class ActiveUserField(serializers.PrimaryKeyRelatedField):
    """Any active user may be named a manager or a rep (only admins write teams and reps)."""

    default_error_messages = VisibleRelatedField.default_error_messages

    def get_queryset(self):
        return User.objects.filter(is_active=True)


class DatedMoveSerializer(ModelCleanSerializer):
    """A model whose `moved` field changes as a dated move, from the write-only `effective`."""

    moved: str

    def move_errors(self, new, effective) -> dict:
        """teams.history's errors for moving the instance to `new` from `effective` (None: default)."""
        raise NotImplementedError

    def validate(self, attrs):
        effective = attrs.pop("effective", None)
        attrs = super().validate(attrs)
        new = attrs.get(self.moved)
        changed = (
            self.instance is not None
            and self.moved in attrs
            and getattr(new, "pk", None) != getattr(self.instance, f"{self.moved}_id")
        )
        if not changed:
            if effective is not None:
                message = f"effective applies to a change of {self.moved}."
                raise serializers.ValidationError({"effective": message})
            return attrs
        if errors := self.move_errors(new, effective):
            raise serializers.ValidationError(errors)
        return {**attrs, "effective": effective}

    def create(self, validated_data):
        instance = self.Meta.model(**validated_data)
        instance.save(by=self.requesting_user())
        return instance

    def update(self, instance, validated_data):
        effective = validated_data.pop("effective", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save(effective=effective, by=self.requesting_user())
        return instance


class PlacementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Placement
        fields = ["parent", "since", "until"]
        read_only_fields = fields


class TeamSerializer(DatedMoveSerializer):
    moved = "parent"

    parent = VisibleRelatedField(Team, required=False, allow_null=True)
    manager = ActiveUserField(required=False, allow_null=True)
    manager_username = serializers.CharField(source="manager.username", read_only=True, allow_null=True)
    effective = serializers.DateField(
        write_only=True,
        required=False,
        help_text="With a change of parent: the first day of the month from which it counts (default: "
        "this month's). This month at the latest, not before 2000-01-01, nor before the current "
        "placement began; on that very day it corrects the current placement.",
    )
    placements = PlacementSerializer(
        many=True, read_only=True, help_text="Where the team sat, oldest first; since None: from the start."
    )

    class Meta:
        model = Team
        fields = ["id", "name", "parent", "manager", "manager_username", "effective", "placements"]

    def move_errors(self, new, effective):
        return placement_errors(self.instance, new.pk if new else None, effective)


class MembershipSerializer(serializers.ModelSerializer):
    team_name = serializers.SerializerMethodField(
        help_text="The team's name if you may see that team or it is the rep's team now; else null."
    )

    class Meta:
        model = Membership
        fields = ["team", "team_name", "since", "until"]
        read_only_fields = fields

    def get_team_name(self, membership) -> str | None:
        # A team's name is for those who see the team (teams.visibility), as everywhere else; a
        # rep's team of today is already on the rep.
        team = membership.team_id
        if team == membership.rep.team_id or team in self.context["team_ids"]:
            return membership.team.name
        return None


class RepSerializer(BlankIsNullMixin, DatedMoveSerializer):
    moved = "team"

    user = ActiveUserField()
    team = VisibleRelatedField(Team)
    username = serializers.CharField(source="user.username", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)
    effective = serializers.DateField(
        write_only=True,
        required=False,
        help_text="With a change of team: the day from which it counts (default: today). Today at the "
        "latest, not before 2000-01-01, nor before the current membership began; on that very day "
        "it corrects the current membership.",
    )
    memberships = MembershipSerializer(
        many=True,
        read_only=True,
        help_text="The teams the rep was in, oldest first: from `since` (None: the start) to the day "
        "before `until` (None: still).",
    )

    class Meta:
        model = Rep
        fields = [
            "id",
            "external_id",
            "full_name",
            "user",
            "username",
            "team",
            "team_name",
            "effective",
            "memberships",
        ]

    def move_errors(self, new, effective):
        return membership_errors(self.instance, effective)
