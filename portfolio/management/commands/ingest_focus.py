"""``manage.py ingest_focus PATH [PATH ...] [--json]``: load one delivery of FOCUS files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    OutputWrapper,
)

from finops_exec.api_errors import ApplicationError
from portfolio.models import Delivery
from portfolio.services.ingest import (
    CHUNK_ROWS,
    deliveries_orphaned_fail,
    delivery_create,
    delivery_ingest,
    delivery_summary,
)


class ProgressBar:
    """``[#####.....] 52% 520,000/1,000,000 rows`` redrawn in place on one line.

    Without a known row count (compressed CSV) it shows the rows done only.
    """

    WIDTH = 30

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.drawn = False

    def show(self, done: int, expected: int | None) -> None:
        if expected:
            share = min(done / expected, 1.0)
            filled = round(share * self.WIDTH)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = f"[{bar}] {share:4.0%} {done:,}/{expected:,} rows"
        else:
            text = f"{done:,} rows"
        self.stream.write("\r" + text, ending="")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Ingest FOCUS cost-and-usage files (CSV, gzip-compressed CSV or Parquet, found from "
        "their content) as one delivery: all rows load or none. A folder means every file in "
        "it. Exit status 0 when loaded, 1 when rejected, 2 when the ingest failed."
    )
    # The system checks (URLs, admin, API schema) take longer than a small delivery's ingest
    # and check nothing this command uses; the server and the test suite run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--json", action="store_true", help="End the output with a JSON summary line."
        )
        parser.add_argument(
            "--chunk-rows",
            type=int,
            default=CHUNK_ROWS,
            help=f"Rows loaded per transaction (default {CHUNK_ROWS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # An earlier run of this command killed on this machine left its delivery running.
        for pk in deliveries_orphaned_fail():
            self.stderr.write(f"delivery {pk}: its earlier run was killed; marked failed")
        try:
            delivery = delivery_create(paths=options["paths"], source=Delivery.Source.COMMAND)
        except ApplicationError as exc:
            # The files could not even be taken in (a missing path, an unreadable archive):
            # still a rejection, and with --json still a summary on the last line.
            if options["json"]:
                self.stdout.write(json.dumps(_refused_summary(exc)))
            raise CommandError(exc.message, returncode=1) from exc

        bar = ProgressBar(self.stderr)
        delivery = delivery_ingest(
            delivery=delivery, progress=bar.show, chunk_rows=options["chunk_rows"]
        )
        bar.close()
        of = f" of about {delivery.rows_expected}" if delivery.rows_expected is not None else ""
        self.stderr.write(f"delivery {delivery.pk}: {delivery.rows_read} rows read{of}")
        summary = delivery_summary(delivery=delivery)
        self._report(delivery, summary, as_json=options["json"])

        if delivery.status == Delivery.Status.REJECTED:
            raise CommandError(delivery.error_message, returncode=1)
        if delivery.status == Delivery.Status.FAILED:
            raise CommandError(delivery.error_message, returncode=2)

    def _report(self, delivery: Delivery, summary: dict[str, Any], *, as_json: bool) -> None:
        self.stdout.write(
            f"Delivery {delivery.pk} {summary['status']}: FOCUS {summary['focus_version'] or '?'}"
            f", {summary['rows_read']} rows read, {summary['rows_loaded']} loaded, "
            f"{summary['rows_rejected']} rejected."
        )
        for currency, sums in summary["totals"].items():
            amounts = ", ".join(f"{name} {value}" for name, value in sums.items())
            self.stdout.write(f"  {currency}: {amounts}")
        for warning in summary["warnings"]:
            self.stdout.write(f"  warning {warning['code']}: {warning['message']}")
        for error in summary["errors"]:
            self.stdout.write(f"  error: {error['message']}")
        if as_json:
            self.stdout.write(json.dumps(summary))


def _refused_summary(exc: ApplicationError) -> dict[str, Any]:
    """The JSON summary of a delivery refused before any file was read."""
    return {
        "status": "rejected",
        "focus_version": "",
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_rejected": 0,
        "totals": {},
        "warnings": [],
        "errors": [{"code": exc.code, "message": exc.message}],
    }
