from django.db import models


class MoneyField(models.DecimalField):
    """Money: Decimal with 14 digits and 2 places, in settings.CURRENCY."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class PeriodKind(models.TextChoices):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class FigureState(models.TextChoices):
    """What a figure is: a number to act on, one that may still change, none at all (its
    denominator is 0: the catalogue says why), or a metric that does not apply to the subject."""

    FINAL = "final"
    PROVISIONAL = "provisional"
    UNDEFINED = "undefined"
    NOT_APPLICABLE = "not_applicable", "not applicable"
