"""Technology categories, strategic priorities and FinOps scopes with their boundary rules."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Dimension(models.TextChoices):
    """FOCUS dimensions a category or scope rule can test, named as the spend columns are."""

    PROVIDER_NAME = "provider_name", "Provider"
    PUBLISHER_NAME = "publisher_name", "Publisher"
    INVOICE_ISSUER_NAME = "invoice_issuer_name", "Invoice issuer"
    BILLING_ACCOUNT_ID = "billing_account_id", "Billing account"
    SUB_ACCOUNT_ID = "sub_account_id", "Sub-account"
    SERVICE_CATEGORY = "service_category", "Service category"
    SERVICE_SUBCATEGORY = "service_subcategory", "Service subcategory"
    SERVICE_NAME = "service_name", "Service name"
    REGION_ID = "region_id", "Region"
    CHARGE_CATEGORY = "charge_category", "Charge category"
    PRICING_UNIT = "pricing_unit", "Pricing unit"
    TECHNOLOGY_CATEGORY = "technology_category", "Technology category"
    TAG = "tag", "Tag"


class Operator(models.TextChoices):
    EQUALS = "equals", "equals"
    NOT_EQUALS = "not_equals", "does not equal"
    STARTS_WITH = "starts_with", "starts with"
    CONTAINS = "contains", "contains"


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TechnologyCategory(TimeStamped):
    """A kind of technology spend (Public Cloud, SaaS, AI, ...); each spend row falls in one."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    display_order = models.PositiveSmallIntegerField(default=100)
    is_default = models.BooleanField(
        default=False,
        help_text="Rows that no category rule matches fall into the default category.",
    )

    class Meta:
        ordering = ["display_order", "name"]
        verbose_name_plural = "technology categories"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_technology_category",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TechnologyCategoryRule(TimeStamped):
    """One test over a FOCUS column that puts matching rows in a technology category.

    Rules are tried in ascending ``priority``; the first match wins, so each row gets exactly one
    category.
    """

    category = models.ForeignKey(TechnologyCategory, on_delete=models.CASCADE, related_name="rules")
    dimension = models.CharField(
        max_length=40,
        choices=[c for c in Dimension.choices if c[0] != Dimension.TECHNOLOGY_CATEGORY],
    )
    operator = models.CharField(max_length=20, choices=Operator.choices, default=Operator.EQUALS)
    tag_key = models.CharField(max_length=200, blank=True, help_text="Only for tag rules.")
    value = models.CharField(max_length=300)
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.dimension} {self.operator} {self.value} → {self.category}"

    def clean(self) -> None:
        _check_tag_key(self.dimension, self.tag_key)


class StrategicPriority(TimeStamped):
    """A business outcome that leaders fund, such as an AI assistant launch."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    target_outcome = models.TextField(blank=True, help_text="What success looks like, measurably.")
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_priorities",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    rank = models.PositiveSmallIntegerField(default=100, help_text="1 is the most important.")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "name"]
        verbose_name_plural = "strategic priorities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="priority_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Scope(TimeStamped):
    """A FinOps scope: a named segment of technology spend aligned to an executive priority.

    Its boundary is the set of its rules: rules on the same dimension are alternatives (any may
    match), rules on different dimensions must all match, and ``not_equals`` rules exclude.
    """

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"

    class Maturity(models.TextChoices):
        CRAWL = "crawl", "Crawl"
        WALK = "walk", "Walk"
        RUN = "run", "Run"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    priority = models.ForeignKey(
        StrategicPriority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scopes",
        help_text="The executive priority this scope serves.",
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_scopes",
        help_text="The executive accountable for the scope.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_scopes",
        help_text="The person who maintains the scope day to day.",
    )
    review_cadence = models.CharField(
        max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY
    )
    maturity = models.CharField(max_length=10, choices=Maturity.choices, default=Maturity.CRAWL)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScopeRule(TimeStamped):
    """One boundary test of a scope over a FOCUS dimension, the technology category or a tag."""

    scope = models.ForeignKey(Scope, on_delete=models.CASCADE, related_name="rules")
    dimension = models.CharField(max_length=40, choices=Dimension.choices)
    operator = models.CharField(max_length=20, choices=Operator.choices, default=Operator.EQUALS)
    tag_key = models.CharField(max_length=200, blank=True, help_text="Only for tag rules.")
    value = models.CharField(
        max_length=300, help_text="For technology category rules, the category's slug."
    )

    class Meta:
        ordering = ["scope", "dimension", "id"]

    def __str__(self) -> str:
        key = f"{self.tag_key}=" if self.dimension == Dimension.TAG else ""
        return f"{self.dimension} {self.operator} {key}{self.value}"

    def clean(self) -> None:
        _check_tag_key(self.dimension, self.tag_key)


def _check_tag_key(dimension: str, tag_key: str) -> None:
    if dimension == Dimension.TAG and not tag_key:
        raise ValidationError({"tag_key": "A tag rule needs the tag key to test."})
    if dimension != Dimension.TAG and tag_key:
        raise ValidationError({"tag_key": "Only tag rules have a tag key."})
