"""Reports: KPI definitions and their computed history, maturity assessments, and briefs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from finops_exec.exact import ExactDecimalField
from scopes.models import Scope, TimeStamped

# The maturity criteria of the Executive Strategy Alignment capability, by stage, under stable
# codes that assessments store in ``criteria_met``.
MATURITY_CRITERIA: dict[str, dict[str, str]] = {
    "crawl": {
        "sponsor_identified": "An executive sponsor is identified; governance is lightweight.",
        "initial_scope": "At least one initial scope exists; boundaries are informal.",
        "adhoc_initiative_link": "Spend relates to strategic initiatives in an ad hoc way.",
        "cloud_definitions_shared": "Cost definitions are shared for public cloud.",
        "late_decision_support": "Decision support comes late; rights and guardrails vary.",
    },
    "walk": {
        "multi_category_scopes": "Scopes span several categories and align to priorities.",
        "regular_cadence": "A regular governance cadence with earlier decision support.",
        "executive_pull": "Pilot scopes create executive pull for FinOps in governance.",
        "definitions_consistent": "Definitions are consistent and tied to finance processes.",
        "unit_metrics_improve": "Unit metrics improve; early forecasts tied to demand.",
        "demand_informs_commitments": "Demand signals inform multi-year commitments.",
    },
    "run": {
        "operating_model": "An established operating model with clear intersections.",
        "scopes_standard_lens": "Scopes are the standard lens for strategy and funding.",
        "required_input": "FinOps is a required input, with rights, guardrails and outcomes.",
        "embedded_in_routines": "Insights are embedded in portfolio and commitment routines.",
        "tradeoffs_comparable": "Cost, speed, quality and risk compare across initiatives.",
        "change_event_continuity": "Alignment holds through change events and transitions.",
    },
}

# The capability's measures of success: (code, name, level, unit, description).
STANDARD_KPIS: tuple[tuple[str, str, str, str, str], ...] = (
    ("decision_cadence_coverage", "Decision cadence coverage", "enterprise", "percent",
     "Share of major technology investment decisions that follow the agreed routine."),
    ("decision_rights_clarity", "Decision rights clarity", "enterprise", "percent",
     "Share of decisions taken by someone holding a documented right for them."),
    ("value_reporting_consistency", "Consistency of technology value reporting", "enterprise",
     "percent", "Share of priorities reported with the stable set of business measures."),
    ("engineering_productivity", "Engineering productivity per tech spend", "enterprise",
     "ratio", "Deployments per 1,000 of internal technology spend."),
    ("change_event_readiness", "Change event readiness", "enterprise", "days",
     "Days to produce a decision-ready baseline for a change event."),
    ("priority_scope_adoption", "Priority scope adoption", "scope", "percent",
     "Share of scopes reviewed in a leadership routine within their cadence."),
    ("decision_readiness", "Decision readiness", "scope", "percent",
     "Share of priority decisions with options compared on cost, risk, timing, quality and "
     "outcome."),
    ("unit_economics_decision_use", "Unit economics decision use", "scope", "percent",
     "Share of decisions that reference an agreed unit measure."),
    ("guardrails_and_ownership", "Guardrails and ownership", "scope", "percent",
     "Share of decisions with explicit guardrails and named owners for follow-through."),
    ("action_follow_through", "Action follow-through", "scope", "percent",
     "Share of agreed actions completed by their due date."),
    ("allocation_coverage", "Allocation coverage", "operational", "percent",
     "Share of spend that scopes or allocation rules assign to an owner."),
    ("forecast_accuracy", "Forecast accuracy", "operational", "percent",
     "Mean absolute percentage error of last month's forecasts."),
    ("commitment_utilisation", "Commitment utilisation", "operational", "percent",
     "Share of committed spend actually used."),
)  # fmt: skip


class KpiDefinition(TimeStamped):
    """A measure of success, such as decision readiness or action follow-through."""

    class Level(models.TextChoices):
        ENTERPRISE = "enterprise", "Enterprise"
        SCOPE = "scope", "Scope"
        OPERATIONAL = "operational", "Operational"

    class Unit(models.TextChoices):
        PERCENT = "percent", "Percent"
        RATIO = "ratio", "Ratio"
        AMOUNT = "amount", "Amount"
        COUNT = "count", "Count"
        DAYS = "days", "Days"

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.SCOPE)
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.PERCENT)
    target_value = ExactDecimalField(null=True, blank=True)
    higher_is_better = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "code"]
        verbose_name = "KPI definition"

    def __str__(self) -> str:
        return self.name


class KpiSnapshot(TimeStamped):
    """One computed value of a KPI for a period, for a scope or the whole organisation.

    Snapshots are never overwritten: recomputing adds a new row, so the history shows how the
    measure moved and when it was computed.
    """

    kpi = models.ForeignKey(KpiDefinition, on_delete=models.CASCADE, related_name="snapshots")
    scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_snapshots",
        help_text="The whole organisation if empty.",
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="First day after the period (exclusive).")
    value = ExactDecimalField(null=True, blank=True, help_text="Empty when nothing to measure.")
    numerator = ExactDecimalField(null=True, blank=True)
    denominator = ExactDecimalField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="What the value was made of.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["kpi", "-period_start", "-computed_at"]
        verbose_name = "KPI snapshot"
        indexes = [models.Index(fields=["kpi", "scope", "period_start", "computed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="kpi_snapshot_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(denominator__isnull=True) | models.Q(denominator__gte=0),
                name="kpi_snapshot_denominator_not_negative",
            ),
        ]

    def __str__(self) -> str:
        where = self.scope or "organisation"
        return f"{self.kpi.code} {where} {self.period_start:%Y-%m}: {self.value}"


class MaturityAssessment(TimeStamped):
    """A dated judgement of a scope's (or the organisation's) crawl/walk/run maturity."""

    class Stage(models.TextChoices):
        CRAWL = "crawl", "Crawl"
        WALK = "walk", "Walk"
        RUN = "run", "Run"

    scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="maturity_assessments",
        help_text="The whole organisation if empty.",
    )
    stage = models.CharField(max_length=10, choices=Stage.choices)
    criteria_met = models.JSONField(
        default=list,
        blank=True,
        help_text="Codes of the maturity criteria met, e.g. ['walk.regular_cadence'].",
    )
    evidence = models.JSONField(default=dict, blank=True, help_text="Per criterion, why.")
    notes = models.TextField(blank=True)
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        where = self.scope or "Organisation"
        return f"{where}: {self.get_stage_display()} ({self.assessed_at:%Y-%m-%d})"


class Brief(TimeStamped):
    """A generated executive brief: the plain data behind one rendering, kept for the record."""

    class Kind(models.TextChoices):
        PORTFOLIO = "portfolio", "Portfolio"
        SCOPE = "scope", "Scope"
        AI_PORTFOLIO = "ai_portfolio", "AI portfolio"
        CHANGE_EVENT = "change_event", "Change event baseline"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300, blank=True)
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.CASCADE, related_name="briefs"
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="First day after the period (exclusive).")
    data = models.JSONField(default=dict, help_text="The generated figures, as plain data.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="briefs",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="brief_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="scope") | models.Q(scope__isnull=False),
                name="brief_scope_kind_needs_scope",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} brief {self.period_start:%Y-%m}"
