"""``generate_focus ROWS PATH``: write a synthetic FOCUS 1.2 cost-and-usage file."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from finops_exec.exact import money_str
from portfolio.focus_catalog import GROUPS
from portfolio.focus_generator import focus_file_generate


def _month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(f"--end-month must look like 2026-05, got {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Write a synthetic FOCUS 1.2 CSV (CSV.gz when PATH ends in .gz) of exactly ROWS rows: "
        "public cloud, AI, SaaS, licensing and data center spend over several months."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("rows", type=int, help="Number of data rows to write.")
        parser.add_argument("path", help="Where to write the file.")
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same file.")
        parser.add_argument("--months", type=int, default=13, help="Months of history.")
        parser.add_argument(
            "--end-month", type=_month, default=None, help="Last month, YYYY-MM (default: now)."
        )
        parser.add_argument(
            "--groups", default="", help=f"Comma-separated subset of: {', '.join(GROUPS)}."
        )
        parser.add_argument(
            "--eur-account", action="store_true", help="Add a billing account billed in EUR."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        groups = tuple(g for g in options["groups"].split(",") if g) or None
        unknown = set(groups or ()) - set(GROUPS)
        if unknown:
            raise CommandError(f"Unknown group {sorted(unknown)[0]!r}; use {', '.join(GROUPS)}.")
        try:
            summary = focus_file_generate(
                rows=options["rows"],
                path=options["path"],
                seed=options["seed"],
                months=options["months"],
                end_month=options["end_month"],
                groups=groups,
                eur_account=options["eur_account"],
            )
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        totals = ", ".join(
            f"{currency} {money_str(amount)}" for currency, amount in summary.billed_cost.items()
        )
        self.stdout.write(
            f"Wrote {summary.rows} rows to {summary.path} "
            f"({summary.months[0]} to {summary.months[-1]}; billed {totals})."
        )
