"""API serializers for teams and reps, and the two pieces every API serializer builds on.

- `VisibleRelatedField`: a related id is accepted only when the requesting user may see that
  row, so a write can never point outside what its author sees; any other id reads as "does
  not exist" (400), whether it exists or not.
- `ModelCleanSerializer`: validates like a ModelForm, through the model's `full_clean` (field
  validators, `clean()`, unique and check constraints), so a bad write is a 400 with field
  errors instead of an IntegrityError.
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from salesperf.api import field_errors

from .models import Rep, Team, User


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, looked up among the rows of `model` the user may see
    (`model.objects.visible_to(user)`)."""

    default_error_messages = {"does_not_exist": "Unknown id {pk_value}, or not one you may use."}

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(self.context["request"].user)


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
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None
        return attrs


class ActiveUserField(serializers.PrimaryKeyRelatedField):
    """Any active user may be named a manager or a rep (only admins write teams and reps)."""

    default_error_messages = VisibleRelatedField.default_error_messages

    def get_queryset(self):
        return User.objects.filter(is_active=True)


class TeamSerializer(ModelCleanSerializer):
    parent = VisibleRelatedField(Team, required=False, allow_null=True)
    manager = ActiveUserField(required=False, allow_null=True)
    manager_username = serializers.CharField(source="manager.username", read_only=True, allow_null=True)

    class Meta:
        model = Team
        fields = ["id", "name", "parent", "manager", "manager_username"]


class RepSerializer(ModelCleanSerializer):
    user = ActiveUserField()
    team = VisibleRelatedField(Team)
    username = serializers.CharField(source="user.username", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = Rep
        fields = ["id", "full_name", "user", "username", "team", "team_name"]
