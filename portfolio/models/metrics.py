"""Business metrics (demand drivers) with their dated values, and the unit metrics built on them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from finops_exec.exact import ExactDecimalField
from scopes.models import Scope, StrategicPriority, TechnologyCategory, TimeStamped


class BusinessMetric(TimeStamped):
    """A business time series such as active users, transactions, AI tokens or revenue."""

    class Kind(models.TextChoices):
        DEMAND = "demand", "Demand driver"
        OUTCOME = "outcome", "Business outcome"
        FINANCIAL = "financial", "Financial (revenue, margin)"
        ENGINEERING = "engineering", "Engineering output"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum over the period"
        LAST = "last", "Value at the end of the period"
        AVERAGE = "average", "Average over the period"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DEMAND)
    unit = models.CharField(
        max_length=50, help_text="What one unit counts: users, transactions, tokens, USD."
    )
    currency = models.CharField(
        max_length=3, blank=True, help_text="ISO 4217 code, only for financial metrics."
    )
    aggregation = models.CharField(
        max_length=10,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
        help_text="How values of shorter periods combine into a month or a quarter.",
    )
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.SET_NULL, related_name="business_metrics"
    )
    priority = models.ForeignKey(
        StrategicPriority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="business_metrics",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_business_metrics",
        help_text="Who enters or vouches for the values.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MetricValue(TimeStamped):
    """The value of a business metric over one period (usually a calendar month)."""

    metric = models.ForeignKey(BusinessMetric, on_delete=models.CASCADE, related_name="values")
    period_start = models.DateField(help_text="First day of the period.")
    period_end = models.DateField(help_text="First day after the period (exclusive).")
    value = ExactDecimalField()
    source = models.CharField(
        max_length=200, blank=True, help_text="Where the value came from (system, report)."
    )

    class Meta:
        ordering = ["metric", "period_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="metric_value_period_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_start", "period_end"], name="metric_value_unique_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period_start:%Y-%m-%d}: {self.value}"


class UnitMetric(TimeStamped):
    """A unit cost: the cost of a scope or filter divided by a business metric or usage quantity.

    The numerator is the chosen cost column of the spend the scope, category and filter select.
    The denominator is either a business metric or the sum of FOCUS ``ConsumedQuantity`` of
    rows with ``consumed_unit`` (for example Tokens), expressed per ``denominator_scale`` units:
    cost per 1M tokens has unit Tokens and scale 1,000,000.
    """

    class CostBasis(models.TextChoices):
        EFFECTIVE = "effective_cost", "Effective cost (amortised)"
        BILLED = "billed_cost", "Billed cost"
        LIST = "list_cost", "List cost"
        CONTRACTED = "contracted_cost", "Contracted cost"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="unit_metrics",
        help_text="Whose cost is divided; the whole portfolio if empty.",
    )
    technology_category = models.ForeignKey(
        TechnologyCategory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="unit_metrics",
    )
    cost_filter = models.JSONField(
        default=dict,
        blank=True,
        help_text='Extra equality filters on spend, e.g. {"service_category": "AI and Machine '
        'Learning"}; keys are snake_case FOCUS names or tag:KEY.',
    )
    cost_basis = models.CharField(
        max_length=20, choices=CostBasis.choices, default=CostBasis.EFFECTIVE
    )
    business_metric = models.ForeignKey(
        BusinessMetric,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="unit_metrics",
        help_text="The denominator, when it is a business metric.",
    )
    consumed_unit = models.CharField(
        max_length=100,
        blank=True,
        help_text="The denominator, when it is a FOCUS usage quantity: its ConsumedUnit.",
    )
    denominator_scale = ExactDecimalField(
        default=1, help_text="Units per denominator: 1000000 for cost per 1M tokens."
    )
    display_unit = models.CharField(
        max_length=80, help_text="How people read it, e.g. 'per 1M tokens', 'per active user'."
    )
    target_value = ExactDecimalField(null=True, blank=True, help_text="Target unit cost.")
    currency = models.CharField(max_length=3, default="USD")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_unit_metrics",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(business_metric__isnull=False, consumed_unit="")
                | (models.Q(business_metric__isnull=True) & ~models.Q(consumed_unit="")),
                name="unit_metric_one_denominator",
            ),
            models.CheckConstraint(
                condition=models.Q(denominator_scale__gt=0),
                name="unit_metric_scale_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(target_value__isnull=True) | models.Q(target_value__gte=0),
                name="unit_metric_target_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_unit})"

    def clean(self) -> None:
        if (self.business_metric_id is None) == (not self.consumed_unit):
            raise ValidationError(
                "Choose exactly one denominator: a business metric or a consumed unit."
            )
