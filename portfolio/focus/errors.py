"""What an ingest reports: row errors that reject a delivery, and warnings that do not.

Row numbers count data rows from 1; the header is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A delivery stops being read once this many bad rows are known; the first ones tell the story.
MAX_ERRORS = 20
# Each warning lists at most this many example rows, and counts the rest.
MAX_WARNING_ROWS = 20


def storable(text: str) -> str:
    """``text`` with NUL characters shown as ``\\x00``: the database's JSON cannot hold them."""
    return text.replace("\x00", "\\x00")


def value_repr(value: Any) -> str:
    """A value quoted for a message, cut short when long."""
    text = storable(str(value))
    if len(text) > 80:
        text = text[:77] + "..."
    return '"' + text.replace('"', '\\"') + '"'


@dataclass
class RowError:
    """One bad value: the file, the 1-based data row, the column, the value and what is wrong."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    problem: str

    @property
    def message(self) -> str:
        where = self.file
        if not where:
            return self.problem
        if self.row is not None:
            where += f" data row {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.value is None:
            return f"{where}: {self.problem}"
        return f"{where}: {value_repr(self.value)} {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": None if self.value is None else storable(self.value),
            "message": storable(self.message),
        }


class DeliveryRejected(Exception):
    """The delivery cannot be loaded; nothing of it is stored."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].message if errors else "rejected")
        self.errors = errors


@dataclass
class _Warning:
    code: str
    message: str
    file: str | None
    column: str | None
    rows: list[int] = field(default_factory=list)
    count: int = 0


class WarningLog:
    """Warnings of one delivery, one per code, file and column, with example rows."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str | None, str | None], _Warning] = {}

    def add(
        self,
        *,
        code: str,
        message: str,
        file: str | None = None,
        column: str | None = None,
        rows: list[int] | None = None,
        count: int | None = None,
    ) -> None:
        """Record a warning, or add rows to the same warning already recorded."""
        key = (code, file, column)
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = _Warning(code, message, file, column)
        rows = rows or []
        room = MAX_WARNING_ROWS - len(item.rows)
        if room > 0:
            item.rows.extend(rows[:room])
        item.count += count if count is not None else len(rows)

    def as_list(self) -> list[dict[str, Any]]:
        result = []
        for item in self._items.values():
            entry: dict[str, Any] = {
                "code": item.code,
                "message": item.message,
                "column": item.column,
                "rows": item.rows,
            }
            if item.file is not None:
                entry["file"] = item.file
            if item.count:
                entry["count"] = item.count
            result.append(entry)
        return result
