"""Commitments and contracts across the technology portfolio, with their exposure and renewals."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from finops_exec.exact import ExactDecimalField
from scopes.models import Scope, TechnologyCategory, TimeStamped


class Commitment(TimeStamped):
    """A multi-year obligation to a vendor: a discount program, plan, subscription or licence.

    ``total_amount`` is what the organisation is bound to pay over the term; ``consumed_amount``
    is what has been used or drawn down so far. The difference is the remaining exposure.
    """

    class Category(models.TextChoices):
        CLOUD_DISCOUNT = "cloud_discount", "Cloud discount program"
        SAVINGS_PLAN = "savings_plan", "Savings plan"
        RESERVATION = "reservation", "Reservation"
        SAAS = "saas_subscription", "SaaS subscription"
        AI_PLATFORM = "ai_platform", "AI platform contract"
        DC_REFRESH = "dc_refresh", "Data center refresh"
        LICENCE = "licence", "Software licence"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        RENEWING = "renewing", "In renewal"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class Payment(models.TextChoices):
        UPFRONT = "upfront", "All upfront"
        MONTHLY = "monthly", "Monthly"
        ANNUAL = "annual", "Annual"
        CONSUMPTION = "consumption", "Drawn down by consumption"

    name = models.CharField(max_length=200, unique=True)
    category = models.CharField(max_length=30, choices=Category.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    provider_name = models.CharField(
        max_length=200, help_text="The vendor, spelled as FOCUS ProviderName spells it."
    )
    technology_category = models.ForeignKey(
        TechnologyCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.SET_NULL, related_name="commitments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_commitments",
        help_text="Who manages the contract and its renewal.",
    )
    contract_id = models.CharField(
        max_length=200, blank=True, verbose_name="contract id", help_text="FOCUS ContractId."
    )
    contract_commitment_id = models.CharField(
        max_length=200,
        blank=True,
        verbose_name="contract commitment id",
        help_text="FOCUS ContractCommitmentId.",
    )
    contract_commitment_type = models.CharField(
        max_length=100, blank=True, help_text="FOCUS ContractCommitmentType."
    )
    commitment_discount_id = models.CharField(
        max_length=500,
        blank=True,
        help_text="FOCUS CommitmentDiscountId of the rows this commitment covers, if any.",
    )
    start_date = models.DateField()
    end_date = models.DateField(help_text="First day after the term (exclusive).")
    payment = models.CharField(max_length=20, choices=Payment.choices, default=Payment.MONTHLY)
    currency = models.CharField(max_length=3, default="USD")
    total_amount = ExactDecimalField(help_text="What the term obliges in total.")
    annual_amount = ExactDecimalField(null=True, blank=True)
    consumed_amount = ExactDecimalField(default=Decimal(0), help_text="Used or drawn down so far.")
    utilisation_percent = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Share of the committed capacity in use over the last full month.",
    )
    quantity = ExactDecimalField(
        null=True, blank=True, help_text="Committed quantity: seats, cores, hours, tokens."
    )
    quantity_unit = models.CharField(max_length=50, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    notice_date = models.DateField(
        null=True, blank=True, help_text="Last day to give notice or renegotiate."
    )
    auto_renews = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["end_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")),
                name="commitment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(total_amount__gte=0), name="commitment_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(consumed_amount__gte=0),
                name="commitment_consumed_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(utilisation_percent__isnull=True)
                | models.Q(utilisation_percent__gte=0),
                name="commitment_utilisation_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(notice_date__isnull=True)
                | models.Q(renewal_date__isnull=True)
                | models.Q(notice_date__lte=models.F("renewal_date")),
                name="commitment_notice_before_renewal",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.consumed_amount is None or self.total_amount is None:
            return
        if self.consumed_amount > self.total_amount and self.payment != self.Payment.CONSUMPTION:
            raise ValidationError(
                {"consumed_amount": "More was consumed than the commitment's total."}
            )

    @property
    def term_months(self) -> int:
        return (self.end_date.year - self.start_date.year) * 12 + (
            self.end_date.month - self.start_date.month
        )

    @property
    def remaining_exposure(self) -> Decimal:
        """What is still owed under the term: total minus consumed, never below zero."""
        return max(self.total_amount - self.consumed_amount, Decimal(0))

    def days_to_notice(self, *, today: datetime.date) -> int | None:
        deadline = self.notice_date or self.renewal_date
        return None if deadline is None else (deadline - today).days
