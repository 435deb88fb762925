"""``load_demo``: create or refresh the demo organisation and print what it holds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.demo import DEMO_PASSWORD, DEMO_ROWS, LOGIN_USERS, demo_organisation_load


class Command(BaseCommand):
    help = (
        "Load a demo organisation: people, priorities, scopes, a year of multi-provider spend, "
        "metrics, commitments, initiatives, decisions and guardrails. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rows", type=int, default=DEMO_ROWS, help="FOCUS rows of spend to generate."
        )
        parser.add_argument(
            "--refresh-spend", action="store_true",
            help="Generate and load the spend again even when demo spend is already loaded.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        summary = demo_organisation_load(
            rows=options["rows"], refresh_spend=options["refresh_spend"]
        )
        spend = "loaded now" if summary.spend_loaded_now else "already loaded, kept"
        self.stdout.write(
            f"Demo organisation ready: {summary.priorities} priorities, {summary.scopes} scopes, "
            f"{summary.decisions} decisions, {summary.commitments} commitments; "
            f"{summary.spend_rows} spend rows over {summary.spend_months} months ({spend})."
        )
        self.stdout.write(
            f"Sign in as {', '.join(LOGIN_USERS)} with the password {DEMO_PASSWORD!r}."
        )
