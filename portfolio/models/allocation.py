"""Cost centers and the rules that split shared or untagged spend across scopes or cost centers."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from scopes.models import Scope, TechnologyCategory, TimeStamped

HUNDRED = Decimal(100)


class CostCenter(TimeStamped):
    """A finance cost center that owns technology spend, as it appears in the general ledger.

    Spend reaches a cost center directly through its cost-center tag value, or through an
    allocation rule that targets it.
    """

    code = models.CharField(
        max_length=50, unique=True, help_text="The ledger code, for example cc-1042."
    )
    name = models.CharField(max_length=200)
    tag_value = models.CharField(
        max_length=200,
        blank=True,
        help_text="Value of the cost-center tag on spend rows that belong here; the code if empty.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cost_centers",
        help_text="The budget or P&L owner.",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def spend_tag_value(self) -> str:
        return self.tag_value or self.code


class AllocationRule(TimeStamped):
    """How one pool of shared or untagged cost is split across scopes or cost centers.

    The pool is the spend of ``source_scope`` (or, when empty, the spend no scope claims),
    narrowed to ``technology_category`` when set. Whatever the targets do not take stays in the
    unallocated remainder, which reports always show.
    """

    class Method(models.TextChoices):
        PROPORTIONAL = "proportional", "Proportional to direct spend"
        EVEN = "even", "Even split"
        FIXED = "fixed", "Fixed percentages"

    class TargetKind(models.TextChoices):
        SCOPE = "scope", "Scopes"
        COST_CENTER = "cost_center", "Cost centers"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    source_scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocation_rules",
        help_text="The shared-cost pool; leave empty for the spend no scope claims.",
    )
    technology_category = models.ForeignKey(
        TechnologyCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocation_rules",
        help_text="Only split spend of this category.",
    )
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.PROPORTIONAL)
    target_kind = models.CharField(
        max_length=20, choices=TargetKind.choices, default=TargetKind.SCOPE
    )
    valid_from = models.DateField(help_text="First month the rule applies to.")
    valid_to = models.DateField(
        null=True, blank=True, help_text="Last day the rule applies to; open-ended if empty."
    )
    is_active = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="allocation_rules",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="allocation_rule_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk is None or self.method != self.Method.FIXED:
            return
        total = sum((t.percentage or Decimal(0) for t in self.targets.all()), Decimal(0))
        if total > HUNDRED:
            raise ValidationError(
                f"The fixed percentages add up to {total}%; they may add up to 100% at most."
            )


class AllocationTarget(TimeStamped):
    """One receiver of an allocation rule: a scope or a cost center, with its fixed share."""

    rule = models.ForeignKey(AllocationRule, on_delete=models.CASCADE, related_name="targets")
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.CASCADE, related_name="allocation_targets"
    )
    cost_center = models.ForeignKey(
        CostCenter,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="allocation_targets",
    )
    # A plain decimal on purpose: range checks on the text-stored exact field would compare
    # strings on SQLite, and four decimals of a percentage are exact in NUMERIC.
    percentage = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(HUNDRED)],
        help_text="Share of the pool in percent; only for the fixed-percentages method.",
    )

    class Meta:
        ordering = ["rule", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__isnull=False, cost_center__isnull=True)
                | models.Q(scope__isnull=True, cost_center__isnull=False),
                name="allocation_target_scope_xor_cost_center",
            ),
            models.CheckConstraint(
                condition=models.Q(percentage__isnull=True)
                | models.Q(percentage__gte=0, percentage__lte=100),
                name="allocation_target_percentage_range",
            ),
            models.UniqueConstraint(
                fields=["rule", "scope"], name="allocation_target_unique_scope"
            ),
            models.UniqueConstraint(
                fields=["rule", "cost_center"], name="allocation_target_unique_cost_center"
            ),
        ]

    def __str__(self) -> str:
        share = f" {self.percentage}%" if self.percentage is not None else ""
        return f"{self.rule} → {self.scope or self.cost_center}{share}"

    def clean(self) -> None:
        kind = self.rule.target_kind if self.rule_id else None
        if kind == AllocationRule.TargetKind.SCOPE and self.scope_id is None:
            raise ValidationError({"scope": "This rule allocates to scopes; choose a scope."})
        if kind == AllocationRule.TargetKind.COST_CENTER and self.cost_center_id is None:
            raise ValidationError({"cost_center": "This rule allocates to cost centers."})
        fixed = self.rule_id is not None and self.rule.method == AllocationRule.Method.FIXED
        if fixed and self.percentage is None:
            raise ValidationError({"percentage": "A fixed-percentages rule needs a percentage."})
