"""Spend forecasts by scope, category and month, what-if scenarios, and forecast accuracy."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from finops_exec.exact import ExactDecimalField
from scopes.models import Scope, TechnologyCategory, TimeStamped


def _first_of_month(value, field: str) -> None:
    if value is not None and value.day != 1:
        raise ValidationError({field: "Use the first day of a month."})


class Scenario(TimeStamped):
    """A what-if: named assumptions and adjustments applied on top of a baseline forecast."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    assumptions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Named assumptions, e.g. {"ai_requests_growth_pct": 12, "seats": 1400}.',
    )
    base_forecast = models.ForeignKey(
        "Forecast",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived_scenarios",
        help_text="The baseline the adjustments modify.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scenarios",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScenarioAdjustment(TimeStamped):
    """One change a scenario makes: a percentage or a monthly amount, for a slice of spend."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "Change by a percentage"
        MONTHLY_AMOUNT = "monthly_amount", "Add an amount per month"
        ONE_OFF = "one_off", "Add a one-off amount"

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PERCENT)
    scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this scope; all spend if empty.",
    )
    technology_category = models.ForeignKey(
        TechnologyCategory, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    value = ExactDecimalField(help_text="Percent for percentage changes, else an amount.")
    currency = models.CharField(max_length=3, blank=True, help_text="For amounts only.")
    start_month = models.DateField()
    end_month = models.DateField(null=True, blank=True, help_text="Open-ended if empty.")
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["scenario", "start_month", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_month__isnull=True)
                | models.Q(end_month__gte=models.F("start_month")),
                name="scenario_adjustment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scenario}: {self.kind} {self.value}"

    def clean(self) -> None:
        _first_of_month(self.start_month, "start_month")
        _first_of_month(self.end_month, "end_month")
        if self.kind != self.Kind.PERCENT and not self.currency:
            raise ValidationError({"currency": "An amount needs its currency."})


class Forecast(TimeStamped):
    """A projection of monthly spend over a horizon: a baseline run-rate, a trend, or a scenario.

    Its points hold the projected amounts; once the months have passed, ``actual_amount`` on each
    point and ``mape_percent`` here record how accurate it was.
    """

    class Method(models.TextChoices):
        RUN_RATE = "run_rate", "Baseline run-rate"
        TREND = "trend", "Trend from history"
        DRIVER = "driver", "Driven by a business metric"
        MANUAL = "manual", "Entered by hand"

    class Kind(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        SCENARIO = "scenario", "Scenario"
        BUDGET = "budget", "Budget"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BASELINE)
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.RUN_RATE)
    scenario = models.ForeignKey(
        Scenario, null=True, blank=True, on_delete=models.CASCADE, related_name="forecasts"
    )
    scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="forecasts",
        help_text="The whole portfolio if empty.",
    )
    technology_category = models.ForeignKey(
        TechnologyCategory,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="forecasts",
    )
    currency = models.CharField(max_length=3, default="USD")
    history_start = models.DateField(
        null=True, blank=True, help_text="First month of the history the forecast was built on."
    )
    as_of_month = models.DateField(help_text="Last month of actuals the forecast knew.")
    start_month = models.DateField(help_text="First projected month.")
    end_month = models.DateField(help_text="Last projected month.")
    notes = models.TextField(blank=True)
    mape_percent = models.DecimalField(
        max_digits=9,
        decimal_places=4,
        null=True,
        blank=True,
        verbose_name="accuracy (MAPE %)",
        help_text="Mean absolute percentage error over the months with actuals.",
    )
    accuracy_measured_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forecasts",
    )

    class Meta:
        ordering = ["-as_of_month", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_month__gte=models.F("start_month")),
                name="forecast_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(start_month__gt=models.F("as_of_month")),
                name="forecast_starts_after_actuals",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="scenario", scenario__isnull=False)
                | (~models.Q(kind="scenario") & models.Q(scenario__isnull=True)),
                name="forecast_scenario_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(mape_percent__isnull=True) | models.Q(mape_percent__gte=0),
                name="forecast_mape_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_month:%Y-%m} to {self.end_month:%Y-%m})"

    def clean(self) -> None:
        for field in ("history_start", "as_of_month", "start_month", "end_month"):
            _first_of_month(getattr(self, field), field)


class ForecastPoint(TimeStamped):
    """The projected spend of one month for a forecast, optionally per scope or category."""

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="points")
    month = models.DateField(help_text="First day of the month.")
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    technology_category = models.ForeignKey(
        TechnologyCategory, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    amount = ExactDecimalField(help_text="Projected cost in the forecast's currency.")
    lower_amount = ExactDecimalField(null=True, blank=True, help_text="Low end of the range.")
    upper_amount = ExactDecimalField(null=True, blank=True, help_text="High end of the range.")
    demand_quantity = ExactDecimalField(
        null=True, blank=True, help_text="Projected demand (business metric) for the month."
    )
    unit_cost = ExactDecimalField(null=True, blank=True, help_text="Projected unit cost.")
    actual_amount = ExactDecimalField(
        null=True, blank=True, help_text="The actual cost, filled in once the month closed."
    )

    class Meta:
        ordering = ["forecast", "month", "id"]
        # Four partial constraints because NULL scope or category would otherwise make
        # duplicates look distinct.
        constraints = [
            models.UniqueConstraint(
                fields=["forecast", "month"],
                condition=models.Q(scope__isnull=True, technology_category__isnull=True),
                name="forecast_point_unique_total",
            ),
            models.UniqueConstraint(
                fields=["forecast", "month", "scope"],
                condition=models.Q(scope__isnull=False, technology_category__isnull=True),
                name="forecast_point_unique_scope",
            ),
            models.UniqueConstraint(
                fields=["forecast", "month", "technology_category"],
                condition=models.Q(scope__isnull=True, technology_category__isnull=False),
                name="forecast_point_unique_category",
            ),
            models.UniqueConstraint(
                fields=["forecast", "month", "scope", "technology_category"],
                name="forecast_point_unique_scope_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.forecast.name} {self.month:%Y-%m}: {self.amount}"

    def clean(self) -> None:
        _first_of_month(self.month, "month")
        if self.lower_amount is not None and self.lower_amount > self.amount:
            raise ValidationError({"lower_amount": "The low end exceeds the projection."})
        if self.upper_amount is not None and self.upper_amount < self.amount:
            raise ValidationError({"upper_amount": "The high end is below the projection."})

    @property
    def variance(self) -> Decimal | None:
        """Actual minus projected; positive when spend came in above the forecast."""
        return None if self.actual_amount is None else self.actual_amount - self.amount

    @property
    def absolute_percentage_error(self) -> Decimal | None:
        if self.actual_amount is None or self.actual_amount == 0:
            return None
        return abs(self.actual_amount - self.amount) / abs(self.actual_amount) * 100
