"""Governance: forums, decisions with their options, decision rights, guardrails, breaches and
the action register."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from finops_exec.exact import ExactDecimalField
from finops_exec.personas import PERSONAS
from portfolio.models import Initiative, UnitMetric
from scopes.models import Scope, StrategicPriority, TechnologyCategory, TimeStamped


class Forum(TimeStamped):
    """A governance body that meets on a cadence and takes decisions (e.g. an investment board)."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    purpose = models.TextField(blank=True, help_text="What the forum decides.")
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chaired_forums",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="forums")
    next_meeting_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DecisionKind(models.TextChoices):
    INVESTMENT = "investment", "Investment"
    COMMITMENT = "commitment", "Commitment"
    BUILD_VS_BUY = "build_vs_buy", "Build vs buy"
    VENDOR = "vendor", "Vendor selection"
    ARCHITECTURE = "architecture", "Architecture"


class Decision(TimeStamped):
    """A governance decision taken (or awaited) in a forum, with its options and rationale."""

    Kind = DecisionKind

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        IN_REVIEW = "in_review", "In review"
        DECIDED = "decided", "Decided"
        DEFERRED = "deferred", "Deferred"
        REJECTED = "rejected", "Rejected"

    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=DecisionKind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    question = models.TextField(blank=True, help_text="What has to be decided, in one paragraph.")
    forum = models.ForeignKey(
        Forum, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    decider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions_to_take",
        help_text="The person accountable for the decision.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_decisions",
    )
    due_on = models.DateField(null=True, blank=True, help_text="When the decision is needed.")
    decided_on = models.DateField(null=True, blank=True)
    rationale = models.TextField(blank=True, help_text="Why the chosen option won.")
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    priority = models.ForeignKey(
        StrategicPriority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    unit_metric = models.ForeignKey(
        UnitMetric,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
        help_text="The unit measure the decision was weighed on.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["decided", "rejected"])
                | models.Q(decided_on__isnull=False),
                name="decision_closed_has_date",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["decided", "rejected"])
                | models.Q(decided_on__isnull=True),
                name="decision_open_has_no_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.PROPOSED, self.Status.IN_REVIEW, self.Status.DEFERRED}

    @property
    def chosen_option(self) -> Option | None:
        return self.options.filter(is_chosen=True).first()


class Option(TimeStamped):
    """One alternative of a decision, comparable on cost, risk, timing, quality and outcome."""

    class Risk(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="options")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    cost_one_off = ExactDecimalField(default=0, verbose_name="one-off cost")
    run_rate_monthly = ExactDecimalField(default=0, verbose_name="run-rate per month")
    tco_amount = ExactDecimalField(verbose_name="multi-year TCO")
    tco_years = models.PositiveSmallIntegerField(default=3, verbose_name="TCO horizon (years)")
    risk = models.CharField(max_length=10, choices=Risk.choices, default=Risk.MEDIUM)
    risk_notes = models.TextField(blank=True)
    delivery_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Weeks until it delivers."
    )
    delivery_notes = models.CharField(max_length=300, blank=True)
    quality_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Outcome quality from 1 (poor) to 5 (excellent)."
    )
    quality_notes = models.TextField(blank=True)
    expected_outcome = models.TextField(blank=True)
    unit_cost = ExactDecimalField(null=True, blank=True)
    unit_cost_label = models.CharField(
        max_length=80, blank=True, help_text="What the unit cost is per, e.g. 'per 1M tokens'."
    )
    is_chosen = models.BooleanField(default=False)

    class Meta:
        ordering = ["decision", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision"],
                condition=models.Q(is_chosen=True),
                name="one_chosen_option_per_decision",
            ),
            models.UniqueConstraint(fields=["decision", "title"], name="option_unique_title"),
            models.CheckConstraint(
                condition=models.Q(cost_one_off__gte=0, run_rate_monthly__gte=0, tco_amount__gte=0),
                name="option_costs_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(unit_cost__isnull=True) | models.Q(unit_cost__gte=0),
                name="option_unit_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(quality_score__isnull=True)
                | models.Q(quality_score__gte=1, quality_score__lte=5),
                name="option_quality_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision}: {self.title}"


class ChangeKind(models.TextChoices):
    SPEND_CHANGE = "spend_change", "Spend change"
    COMMITMENT = "commitment", "Commit capacity or contract"
    TRADEOFF = "tradeoff", "Accept a cost, risk or performance tradeoff"
    INVESTMENT = "investment", "Investment"
    VENDOR = "vendor", "Vendor selection"
    ARCHITECTURE = "architecture", "Architecture"


class DecisionRight(TimeStamped):
    """Who may approve which kind of change, up to which amount, in which scope.

    Held by a persona or by a named person; no amount limit means no limit; no scope means
    every scope.
    """

    ChangeKind = ChangeKind

    persona = models.CharField(
        max_length=20, blank=True, choices=[(p, p.title()) for p in PERSONAS]
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="decision_rights",
    )
    change_kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    amount_limit = ExactDecimalField(
        null=True, blank=True, help_text="Highest amount that may be approved; empty = no limit."
    )
    currency = models.CharField(max_length=3, default="USD")
    scope = models.ForeignKey(
        Scope,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="decision_rights",
        help_text="Every scope if empty.",
    )
    technology_category = models.ForeignKey(
        TechnologyCategory,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="decision_rights",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["change_kind", "persona", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(persona="") | models.Q(user__isnull=False),
                name="decision_right_has_holder",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_limit__isnull=True) | models.Q(amount_limit__gte=0),
                name="decision_right_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        holder = self.user or self.persona
        limit = f"up to {self.amount_limit} {self.currency}" if self.amount_limit else "no limit"
        return f"{holder}: {self.get_change_kind_display()} ({limit})"


class Guardrail(TimeStamped):
    """A limit on a scope or category, checked on a schedule: budget, quota, unit-cost ceiling...

    ``threshold`` is a maximum, except for the commitment-coverage floor, where it is a minimum
    percentage.
    """

    class Kind(models.TextChoices):
        BUDGET = "budget", "Budget"
        SPEND_LIMIT = "spend_limit", "Spend limit"
        QUOTA = "quota", "Usage quota"
        UNIT_COST_CEILING = "unit_cost_ceiling", "Unit-cost ceiling"
        COMMITMENT_COVERAGE_FLOOR = "commitment_coverage_floor", "Commitment-coverage floor"

    class Period(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"

    class Schedule(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    threshold = ExactDecimalField()
    currency = models.CharField(max_length=3, blank=True, help_text="For amounts only.")
    quota_unit = models.CharField(
        max_length=100, blank=True, help_text="For quotas: the FOCUS ConsumedUnit counted."
    )
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTH)
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.CASCADE, related_name="guardrails"
    )
    technology_category = models.ForeignKey(
        TechnologyCategory,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="guardrails",
    )
    unit_metric = models.ForeignKey(
        UnitMetric,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="guardrails",
        help_text="For unit-cost ceilings: the unit metric checked.",
    )
    decision = models.ForeignKey(
        Decision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="guardrails",
        help_text="The decision that set this guardrail.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_guardrails",
        help_text="Who answers for a breach.",
    )
    check_schedule = models.CharField(
        max_length=10, choices=Schedule.choices, default=Schedule.DAILY
    )
    is_active = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0), name="guardrail_threshold_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="unit_cost_ceiling") | models.Q(unit_metric__isnull=False),
                name="guardrail_unit_cost_needs_metric",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="quota") | ~models.Q(quota_unit=""),
                name="guardrail_quota_needs_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        money = {self.Kind.BUDGET, self.Kind.SPEND_LIMIT, self.Kind.UNIT_COST_CEILING}
        if self.kind in money and not self.currency:
            raise ValidationError({"currency": "An amount threshold needs its currency."})


class Breach(TimeStamped):
    """A guardrail exceeded in one period, with the observed value and who must act on it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        WAIVED = "waived", "Waived"

    guardrail = models.ForeignKey(Guardrail, on_delete=models.CASCADE, related_name="breaches")
    period_start = models.DateField()
    period_end = models.DateField(help_text="First day after the period (exclusive).")
    observed_value = ExactDecimalField()
    threshold = ExactDecimalField(help_text="The guardrail's threshold when it was checked.")
    currency = models.CharField(max_length=3, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_breaches",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    detected_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name_plural = "breaches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="breach_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["resolved", "waived"])
                | models.Q(resolved_at__isnull=False),
                name="breach_closed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True)
                | models.Q(resolved_at__gte=models.F("detected_at")),
                name="breach_resolved_after_detected",
            ),
            models.UniqueConstraint(
                fields=["guardrail", "period_start"], name="one_breach_per_guardrail_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardrail} {self.period_start:%Y-%m-%d}: {self.observed_value}"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.OPEN, self.Status.ACKNOWLEDGED}


class Action(TimeStamped):
    """A follow-up in the action register, with an owner and a due date."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    completed_on = models.DateField(null=True, blank=True)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    breach = models.ForeignKey(
        Breach, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | models.Q(completed_on__isnull=False),
                name="action_done_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, *, today: datetime.date) -> bool:
        open_ = self.status in {self.Status.OPEN, self.Status.IN_PROGRESS}
        return open_ and self.due_on is not None and self.due_on < today
