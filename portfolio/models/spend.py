"""Spend: FOCUS deliveries as they were ingested, their rows as Parquet blocks, daily sums."""

# FOCUS tells a null value from an empty string, so its text columns are nullable on purpose.
# ruff: noqa: DJ001

from __future__ import annotations

from django.conf import settings
from django.db import models

from finops_exec.exact import ExactDecimalField
from scopes.models import TechnologyCategory


class Delivery(models.Model):
    """One ingest run of a delivery: a set of FOCUS files loaded together, or not at all.

    The row is the job's record: the UI and the API read status, progress, totals and warnings
    from here, never from Celery's result store.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        LOADED = "loaded", "Loaded"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        COMMAND = "command", "Command line"
        UPLOAD = "upload", "Upload"
        DEMO = "demo", "Demo data"
        SCHEDULE = "schedule", "Schedule"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.COMMAND)
    files = models.JSONField(
        default=list, help_text="Each file's name, stored path, size, SHA-256 and detected format."
    )
    content_sha256 = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Hash over the files' contents; the same delivery loaded again is a no-op.",
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    focus_version = models.CharField(max_length=20, blank=True)
    rows_expected = models.PositiveBigIntegerField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_loaded = models.PositiveBigIntegerField(default=0)
    rows_rejected = models.PositiveBigIntegerField(default=0)
    chunk_rows = models.PositiveIntegerField(
        default=0, help_text="Rows per chunk the delivery is split into; 0 until planned."
    )
    chunks_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Number of chunks, known once every file was read."
    )
    totals = models.JSONField(default=dict, help_text="Per billing currency, the four cost sums.")
    warnings = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    conformance = models.JSONField(
        default=dict,
        blank=True,
        help_text="FOCUS conformance report of the files: version, missing and unrecognised "
        "columns, and findings with exact row counts and example rows.",
    )
    error_message = models.TextField(blank=True)
    runner = models.CharField(
        max_length=200,
        blank=True,
        help_text="host:pid of the process loading the delivery in-process; empty when "
        "Celery workers load it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.LOADED, self.Status.REJECTED, self.Status.FAILED}


class DeliveryChunk(models.Model):
    """A run of consecutive rows of one file of a delivery, loaded by one worker in one go.

    Its rows are committed with the chunk marked done, in one transaction, so a chunk retried
    after a crash either finds itself done or starts from nothing. Rows stay invisible to totals
    until the delivery's finaliser promotes all its slices together.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"
        SKIPPED = "skipped", "Skipped"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(help_text="Position of the chunk in the delivery.")
    file_index = models.PositiveSmallIntegerField(help_text="Index in delivery.files.")
    first_row = models.PositiveBigIntegerField(help_text="Data row number of its first row.")
    row_count = models.PositiveBigIntegerField(default=0)
    rows_loaded = models.PositiveBigIntegerField(default=0)
    rows_rejected = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    worker = models.CharField(max_length=200, blank=True, help_text="Host that loaded it.")
    attempts = models.PositiveSmallIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    measures = models.JSONField(
        null=True,
        blank=True,
        help_text="Of the rows written: rows, coverage and charge days per billing slice, and "
        "totals per currency, which the finaliser adds up.",
    )
    checks = models.JSONField(
        null=True,
        blank=True,
        help_text="What the conformance checks counted in its rows, which the finaliser adds up "
        "into the delivery's report.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "index"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "index"], name="chunk_unique_in_delivery")
        ]

    def __str__(self) -> str:
        return f"Delivery {self.delivery_id} chunk {self.index} ({self.status})"


class BillingSlice(models.Model):
    """The rows of one billing account and billing period that one delivery brought.

    A provider re-exports a period as it fills up, so a later delivery of the same account and
    period supersedes the current slice when its charge days (the distinct UTC dates of its rows'
    ChargePeriodStart) include every charge day of the current one: a restatement or a fuller
    month-to-date export. The superseded rows stay stored for history but leave every total.
    An older, partial or disjoint export is stored without becoming current. Days, not the span
    from first to last charge, are compared: a gap inside the span, or one month-long fee row
    that stretches it, would otherwise let a partial export pass for a full one.
    """

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="slices")
    billing_account_id = models.CharField(max_length=200)
    billing_period_start = models.DateTimeField()
    billing_period_end = models.DateTimeField()
    row_count = models.PositiveBigIntegerField(default=0)
    coverage_start = models.DateTimeField(
        null=True, blank=True, help_text="Earliest ChargePeriodStart of the slice's rows."
    )
    coverage_end = models.DateTimeField(
        null=True, blank=True, help_text="Latest ChargePeriodEnd of the slice's rows."
    )
    charge_days = models.JSONField(
        null=True,
        blank=True,
        help_text="Sorted distinct UTC dates (YYYY-MM-DD) of the ChargePeriodStart of the "
        "slice's rows; null until computed, for slices stored before it was recorded.",
    )
    is_current = models.BooleanField(default=True)
    superseded_by = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="superseded_slices"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["billing_account_id", "billing_period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["billing_account_id", "billing_period_start"],
                condition=models.Q(is_current=True),
                name="one_current_slice_per_account_period",
            ),
            models.UniqueConstraint(
                fields=["delivery", "billing_account_id", "billing_period_start"],
                name="slice_unique_in_delivery",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.billing_account_id} {self.billing_period_start:%Y-%m}"


class SpendBlock(models.Model):
    """The normalised FOCUS rows of one chunk of a delivery, as one Parquet file.

    Raw rows are kept columnar, as Koku and the FinOps hubs keep them, rather than as one
    database row each: a chunk of 100,000 rows is one compressed value written in the chunk's
    own transaction, so storing a delivery costs little more than reading it, and the rows are
    backed up and removed with the rest of the data. Totals, briefs and scope boundaries read
    ``DailySpend``; the rows are read back (``portfolio.rowstore``) for the detail that the
    summary does not keep, such as resources, SKUs and quantities.
    """

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="blocks")
    index = models.PositiveIntegerField(help_text="The chunk's position in the delivery.")
    row_count = models.PositiveIntegerField()
    slice_ids = models.JSONField(default=list, help_text="Ids of the billing slices of its rows.")
    data = models.BinaryField(help_text="Parquet, compressed with zstd.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "index"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "index"], name="block_unique_in_delivery")
        ]

    def __str__(self) -> str:
        return f"delivery {self.delivery_id} block {self.index} ({self.row_count} rows)"


class DailySpend(models.Model):
    """Exact sums of one billing slice's rows per charge day and by the dimensions reports use.

    The summary every total is read from: briefs, scope boundaries, allocation and the spend
    API's groups by these dimensions. Its dimensions are those a scope or category rule can
    test, tags included, plus the names and classes shown beside them; other FOCUS columns are
    read from the rows (``SpendBlock``). Written in the same transaction as the rows it sums,
    so the two always agree. ``charge_period_start`` and ``charge_period_end`` are the
    earliest start and latest end of the rows summed; ``whole_month`` rows are charges that
    span their whole calendar month (monthly fees), kept apart so that a brief can tell how
    far into a month the data reaches.
    """

    # No database constraints on the keys: the ingest is the only writer and takes the ids from
    # rows it made, and checking deferred constraints per sum at each chunk's commit cost a
    # quarter of its time. Deletes still cascade, and categories are still protected, in Django.
    billing_slice = models.ForeignKey(
        BillingSlice,
        on_delete=models.CASCADE,
        related_name="daily",
        db_index=False,
        db_constraint=False,
    )
    charge_day = models.DateField(help_text="UTC date of ChargePeriodStart.")
    charge_month = models.DateField(help_text="First day of the month of charge_day.")
    whole_month = models.BooleanField(default=False)
    billing_currency = models.CharField(max_length=3)
    technology_category = models.ForeignKey(
        TechnologyCategory,
        on_delete=models.PROTECT,
        related_name="daily_spend",
        db_index=False,
        db_constraint=False,
    )

    billing_account_id = models.CharField(max_length=200)
    billing_account_name = models.CharField(max_length=300, null=True, blank=True)
    sub_account_id = models.CharField(max_length=300, null=True, blank=True)
    sub_account_name = models.CharField(max_length=300, null=True, blank=True)
    provider_name = models.CharField(max_length=200, help_text="ServiceProviderName from 1.3 on.")
    publisher_name = models.CharField(max_length=200, null=True, blank=True)
    invoice_issuer_name = models.CharField(max_length=200, null=True, blank=True)
    service_category = models.CharField(max_length=60, null=True, blank=True)
    service_subcategory = models.CharField(max_length=100, null=True, blank=True)
    service_name = models.CharField(max_length=300)
    region_id = models.CharField(max_length=100, null=True, blank=True)
    region_name = models.CharField(max_length=200, null=True, blank=True)
    charge_category = models.CharField(max_length=20)
    charge_class = models.CharField(max_length=20, null=True, blank=True)
    charge_frequency = models.CharField(max_length=20, null=True, blank=True)
    pricing_category = models.CharField(max_length=20, null=True, blank=True)
    pricing_unit = models.CharField(max_length=100, null=True, blank=True)
    commitment_discount_status = models.CharField(max_length=20, null=True, blank=True)
    tags = models.JSONField(default=dict, blank=True, help_text="Tags as one JSON object.")

    row_count = models.PositiveBigIntegerField()
    charge_period_start = models.DateTimeField(help_text="Earliest ChargePeriodStart summed.")
    charge_period_end = models.DateTimeField(help_text="Latest ChargePeriodEnd summed.")
    billed_cost = ExactDecimalField()
    effective_cost = ExactDecimalField()
    # Null when no row summed had the column (pre-1.0 files); never an invented zero.
    list_cost = ExactDecimalField(null=True, blank=True)
    contracted_cost = ExactDecimalField(null=True, blank=True)

    class Meta:
        ordering = ["charge_day", "billing_currency", "provider_name", "service_name"]
        verbose_name_plural = "daily spend"
        # Every read joins the current slices; one index serves them and keeps the load cheap.
        indexes = [models.Index(fields=["billing_slice", "charge_day"])]

    def __str__(self) -> str:
        return f"{self.charge_day:%Y-%m-%d} {self.provider_name} {self.service_name}"
