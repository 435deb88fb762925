"""Exchange rates: the recorded rates that may turn totals of one currency into another."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from finops_exec.exact import ExactDecimalField


class FxRate(models.Model):
    """One recorded exchange rate: 1 ``from_currency`` = ``rate`` ``to_currency`` on ``date``.

    A rate stays in force until a later date records another for the same pair; conversions
    name the rate and its date, so every converted figure can be traced back to this row.
    """

    date = models.DateField(help_text="The day the rate is in force from.")
    from_currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    to_currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. USD.")
    rate = ExactDecimalField(help_text="Units of to_currency for one unit of from_currency.")
    source = models.CharField(
        max_length=200, blank=True, help_text="Where the rate comes from (bank, treasury, file)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fx_rates",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "from_currency", "to_currency"]
        verbose_name = "FX rate"
        constraints = [
            models.UniqueConstraint(
                fields=["date", "from_currency", "to_currency"], name="fx_rate_unique_per_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fx_rate_positive"),
            models.CheckConstraint(
                condition=~models.Q(from_currency=models.F("to_currency")),
                name="fx_rate_between_two_currencies",
            ),
        ]
        indexes = [models.Index(fields=["from_currency", "to_currency", "date"])]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.from_currency} = {self.rate} {self.to_currency}"
