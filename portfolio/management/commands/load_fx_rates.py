"""``manage.py load_fx_rates PATH [--source TEXT]``: record exchange rates from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from finops_exec.api_errors import ApplicationError
from portfolio.services.fx import fx_rates_load_csv


class Command(BaseCommand):
    help = (
        "Load exchange rates from a CSV with the columns date (YYYY-MM-DD), from_currency, "
        "to_currency, rate and optionally source. All rows load or none; a rate already "
        "recorded for the same day and pair is replaced."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", default="", help="Where the rates come from.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist; give the path of a CSV file of rates.")
        try:
            count = fx_rates_load_csv(path=path, source=options["source"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{count} exchange rates loaded from {path.name}.")
