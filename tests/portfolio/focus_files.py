"""Independent readings of FOCUS files with the csv module, to check what the ingest stored."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

COSTS = {
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
    "contracted_cost": "ContractedCost",
}
NULLS = {"", "NULL", "null"}


def csv_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{key.replace("\ufeff", ""): value for key, value in row.items()} for row in rows]


def csv_write(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write ``rows`` (as ``csv_rows`` gives them) to ``path`` as a UTF-8 CSV file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_totals(path: Path) -> dict[str, dict[str, Decimal]]:
    """Per BillingCurrency, the exact sum of each cost column (nulls left out)."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {name: Decimal(0) for name in COSTS}
    )
    for row in csv_rows(path):
        for name, column in COSTS.items():
            value = row.get(column)
            if value is not None and value not in NULLS:
                totals[row["BillingCurrency"]][name] += Decimal(value)
    return dict(totals)
