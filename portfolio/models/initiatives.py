"""Investment initiatives (often AI) with their stage, business case and stage history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from finops_exec.exact import ExactDecimalField
from scopes.models import Scope, StrategicPriority, TechnologyCategory, TimeStamped


class Stage(models.TextChoices):
    IDEA = "idea", "Idea"
    PROOF_OF_CONCEPT = "poc", "Proof of concept"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    SCALED = "scaled", "Scaled"
    STALLED = "stalled", "Stalled"
    RETIRED = "retired", "Retired"


class Initiative(TimeStamped):
    """An investment the organisation funds, with a business case, budget and expected value.

    Actual spend comes from its scopes; the stage history shows how it moved from idea to scale.
    """

    Stage = Stage

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.IDEA)
    is_ai = models.BooleanField(
        default=False, verbose_name="AI initiative", help_text="Shown in the AI portfolio brief."
    )
    priority = models.ForeignKey(
        StrategicPriority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="initiatives",
        help_text="The executive priority it serves.",
    )
    scopes = models.ManyToManyField(
        Scope, blank=True, related_name="initiatives", help_text="Scopes whose spend it drives."
    )
    technology_categories = models.ManyToManyField(
        TechnologyCategory, blank=True, related_name="initiatives"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_initiatives",
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_initiatives",
    )
    business_case = models.TextField(blank=True, help_text="Why it is worth funding.")
    currency = models.CharField(max_length=3, default="USD")
    budget_amount = ExactDecimalField(
        null=True, blank=True, help_text="Approved budget for the current funding period."
    )
    expected_annual_value = ExactDecimalField(
        null=True, blank=True, help_text="Expected value per year once in production."
    )
    expected_value_notes = models.TextField(blank=True)
    tco_amount = ExactDecimalField(
        null=True,
        blank=True,
        verbose_name="multi-year TCO",
        help_text="Total cost of ownership over the business case's horizon.",
    )
    rank = models.PositiveSmallIntegerField(default=100, help_text="1 is funded first.")
    started_on = models.DateField(null=True, blank=True)
    target_on = models.DateField(null=True, blank=True, help_text="Target production date.")
    stage_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True) | models.Q(budget_amount__gte=0),
                name="initiative_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(tco_amount__isnull=True) | models.Q(tco_amount__gte=0),
                name="initiative_tco_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(target_on__isnull=True)
                | models.Q(started_on__isnull=True)
                | models.Q(target_on__gte=models.F("started_on")),
                name="initiative_target_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InitiativeStageChange(TimeStamped):
    """One move of an initiative from one stage to another, with who moved it and why."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["initiative", "changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_stage=models.F("to_stage")),
                name="initiative_stage_change_moves",
            )
        ]

    def __str__(self) -> str:
        start = self.get_from_stage_display() or "start"
        return f"{self.initiative}: {start} → {self.get_to_stage_display()}"
