"""Synthetic FOCUS 1.2 cost-and-usage files for demos and benchmarks.

The file describes one organisation's technology spend across public cloud, AI providers, SaaS,
licensing and data center over a run of months: a mostly upward trend with seasonality, an AI
ramp, commitment purchases with amortised usage, a few credits and tax rows.

Every amount is computed in integers (prices in micro-units, quantities in milli-units, costs in
nano-units), so the decimal strings are exact and the file's totals can be recomputed from it to
the last digit. Rows are built and written in chunks with vectorised numpy and pyarrow code, so
memory stays bounded whatever the row count. The same arguments and seed give the same bytes.
"""

from __future__ import annotations

import calendar
import datetime
import gzip
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio.focus_catalog import (
    ACCOUNTS,
    AI_RAMP,
    COMMITMENT_PLANS,
    CREDITS,
    DECLINE,
    EUR_ACCOUNT,
    EUR_LINE_ITEMS,
    GROWTH,
    LINE_ITEMS,
    TEAMS,
    Account,
    CommitmentPlan,
    LineItem,
)

logger = logging.getLogger(__name__)

FOCUS_12_COLUMNS: tuple[str, ...] = (
    "ProviderName", "PublisherName", "InvoiceIssuerName", "InvoiceId", "BillingAccountId",
    "BillingAccountName", "BillingAccountType", "SubAccountId", "SubAccountName",
    "SubAccountType", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
    "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice",
    "ContractedUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "BillingCurrency", "ConsumedQuantity", "ConsumedUnit",
    "ServiceName", "ServiceCategory", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceId",
    "SkuPriceDetails", "ResourceId", "ResourceName", "ResourceType", "RegionId", "RegionName",
    "AvailabilityZone", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountCategory", "CommitmentDiscountType", "CommitmentDiscountStatus",
    "CommitmentDiscountQuantity", "CommitmentDiscountUnit", "CapacityReservationId",
    "CapacityReservationStatus", "Tags",
)  # fmt: skip

CHUNK_ROWS = 50_000
NANO = 10**9
CENT_NANO = 10**7
# Below this many rows a file has no room for the monthly purchase, tax and credit rows.
MIN_ROWS_FOR_SPECIAL = 1_000
# Monthly growth of the whole estate and the amplitude of its seasonality (peak in Q4).
MONTHLY_GROWTH = 0.025
SEASONALITY = 0.07
ENV_CHOICES = ("prod", "prod", "prod", "staging", "dev")


@dataclass
class GenerationSummary:
    """What a generated file holds: its row count and, per billing currency, exact totals."""

    path: Path
    rows: int
    months: list[str]
    billed_cost: dict[str, Decimal] = field(default_factory=dict)
    effective_cost: dict[str, Decimal] = field(default_factory=dict)


def month_add(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def focus_file_generate(
    *,
    rows: int,
    path: Path | str,
    seed: int = 0,
    months: int = 13,
    end_month: datetime.date | None = None,
    today: datetime.date | None = None,
    groups: tuple[str, ...] | None = None,
    eur_account: bool = False,
) -> GenerationSummary:
    """Write a FOCUS 1.2 CSV (gzip-compressed when ``path`` ends in .gz) of exactly ``rows`` rows.

    ``end_month`` defaults to the month of ``today`` (itself today's UTC date); in the month of
    ``today`` daily usage stops at that day. ``groups`` limits the file to some line-item groups
    (cloud, ai, saas, licensing, data_center).
    """
    if rows < 0:
        raise ValueError(f"The row count must not be negative, got {rows}.")
    if months < 1:
        raise ValueError(f"At least one month is needed, got {months}.")
    today = today or datetime.datetime.now(datetime.UTC).date()
    end_month = (end_month or today).replace(day=1)
    plan = _Plan.build(
        rows=rows,
        seed=seed,
        months=months,
        end_month=end_month,
        today=today,
        groups=groups,
        eur_account=eur_account,
    )
    path = Path(path)
    logger.info("generate_focus %s: %s rows over %s months", path, rows, months)
    with _open(path) as out:
        out.write((",".join(FOCUS_12_COLUMNS) + "\n").encode())
        for batch in plan.batches():
            out.write(_csv_bytes(batch))
    summary = plan.summary(path)
    logger.info("generate_focus %s: wrote %s rows", path, summary.rows)
    return summary


def _open(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "wb", compresslevel=3)  # type: ignore[return-value]
    return path.open("wb")


# Number formatting -------------------------------------------------------------------------


def fixed_str(value: int, digits: int) -> str:
    """An integer count of 10**-digits units as a plain decimal string without trailing zeros."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**digits)
    text = f"{whole}.{frac:0{digits}d}".rstrip("0").rstrip(".")
    return sign + text


def _fixed_array(values: np.ndarray, digits: int) -> pa.Array:
    """Vectorised :func:`fixed_str`."""
    scale = 10**digits
    magnitude = np.abs(values)
    whole = pc.cast(pa.array(magnitude // scale), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(magnitude % scale), pa.string()), width=digits,
                        padding="0")  # fmt: skip
    text = pc.binary_join_element_wise(whole, frac, ".")
    text = pc.utf8_rtrim(pc.utf8_rtrim(text, characters="0"), characters=".")
    sign = pc.if_else(pa.array(values < 0), "-", "")
    return pc.binary_join_element_wise(sign, text, "")


def csv_field(value: str | None) -> str | None:
    """A value as a CSV field: quoted only when it holds a comma, a quote or a line break.

    Values are quoted where the small tables they come from are built, not per row: every
    value computed per row (numbers, timestamps, resource ids) never needs quoting.
    """
    if value is None or not any(c in value for c in ',"\n'):
        return value
    return '"' + value.replace('"', '""') + '"'


def _csv_bytes(columns: list[pa.Array]) -> bytes:
    """CSV text of one batch of already quoted fields: nulls become empty fields."""
    lines = pc.binary_join_element_wise(*columns, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].to_pybytes()[start:end]


def _stamp(day: datetime.date) -> str:
    return f"{day:%Y-%m-%d}T00:00:00Z"


def _repeat(value: str | None, n: int) -> pa.Array:
    return pa.nulls(n, pa.string()) if value is None else pa.repeat(pa.scalar(value), n)


# The generation plan -----------------------------------------------------------------------


@dataclass
class _Month:
    index: int
    start: datetime.date
    end: datetime.date
    days: int  # days with usage (fewer than the month's length in the current month)
    counts: np.ndarray  # regular rows per line item
    base_qty: np.ndarray  # median quantity per row and line item, in milli-units
    plans: list[CommitmentPlan]
    taxed: list[int]  # account indexes
    credits: list[tuple[int, int]]  # (account index, basis points)


@dataclass
class _Plan:
    """Everything decided before the first row: row counts per month and line item, tables."""

    seed: int
    accounts: list[Account]
    items: list[LineItem]
    months: list[_Month]
    use_special: bool
    tags: pa.Array = field(init=False)
    tag_offsets: np.ndarray = field(init=False)
    totals: dict[str, list[int]] = field(default_factory=dict)
    rows_written: int = 0

    @classmethod
    def build(
        cls, *, rows: int, seed: int, months: int, end_month: datetime.date,
        today: datetime.date, groups: tuple[str, ...] | None, eur_account: bool,
    ) -> _Plan:  # fmt: skip
        accounts = [*ACCOUNTS, EUR_ACCOUNT] if eur_account else list(ACCOUNTS)
        items = [*LINE_ITEMS, *EUR_LINE_ITEMS] if eur_account else list(LINE_ITEMS)
        if groups:
            items = [i for i in items if i.group in groups]
        used = {i.account for i in items}
        accounts = [a for a in accounts if a.key in used]
        if not items:
            raise ValueError(f"No line items belong to the groups {groups}.")
        first = month_add(end_month, -(months - 1))
        plan = cls(seed=seed, accounts=accounts, items=items, months=[], use_special=False)
        plan._months_plan(rows=rows, first=first, count=months, today=today)
        plan._tag_table()
        return plan

    def _months_plan(
        self, *, rows: int, first: datetime.date, count: int, today: datetime.date
    ) -> None:
        acct_index = {a.key: n for n, a in enumerate(self.accounts)}
        item_keys = {i.key for i in self.items}
        specials: list[tuple[list[CommitmentPlan], list[int], list[tuple[int, int]]]] = []
        for m in range(count):
            plans = [
                p for p in COMMITMENT_PLANS
                if m >= p.first_month and p.account in acct_index
                and any(i.commitment == p.key for i in self.items if i.key in item_keys)
            ]  # fmt: skip
            taxed = [n for n, a in enumerate(self.accounts) if a.tax_rate_bp]
            credits = [(acct_index[a], bp) for a, mi, bp in CREDITS if mi == m and a in acct_index]
            specials.append((plans, taxed, credits))
        special_rows = sum(2 * len(p) + len(t) + len(c) for p, t, c in specials)
        self.use_special = rows >= max(MIN_ROWS_FOR_SPECIAL, 2 * special_rows)
        regular = rows - (special_rows if self.use_special else 0)

        starts = [month_add(first, m) for m in range(count)]
        factors = np.array([
            [self._spend_factor(item, m, count, start, today) for item in self.items]
            for m, start in enumerate(starts)
        ])  # fmt: skip
        weights = factors * np.array([i.weight for i in self.items])
        counts = _largest_remainder(weights.ravel(), regular).reshape(weights.shape)
        _cap_monthly_rows(self.items, weights, counts)
        base_qty = _base_quantities(self.items, factors, counts)
        for m, start in enumerate(starts):
            plans, taxed, credits = specials[m] if self.use_special else ([], [], [])
            self.months.append(
                _Month(
                    index=m, start=start, end=month_add(start, 1),
                    days=_usage_days(start, today), counts=counts[m], base_qty=base_qty[m],
                    plans=plans, taxed=taxed, credits=credits,
                )
            )  # fmt: skip

    @staticmethod
    def _spend_factor(
        item: LineItem, m: int, count: int, start: datetime.date, today: datetime.date
    ) -> float:
        """The line item's spend in month ``m`` relative to its first-month ``monthly_spend``."""
        if start > today:
            return 0.0
        season = 1 + SEASONALITY * math.cos(2 * math.pi * (start.month - 11) / 12)
        growth = (1 + MONTHLY_GROWTH) ** m
        progress = m / max(count - 1, 1)
        trend = {
            GROWTH: growth,
            AI_RAMP: 0.08 + 1.6 / (1 + math.exp(-8 * (progress - 0.55))),
            DECLINE: 1.0 - 0.25 * progress,
        }.get(item.trend, 1.0)
        share = 1.0 if item.monthly else _usage_days(start, today) / _month_days(start)
        return trend * (1.0 if item.monthly else season) * share

    def _tag_table(self) -> None:
        """All tag strings each line item can carry; rows pick one by resource number."""
        strings: list[str] = []
        offsets = [0]
        for item in self.items:
            for team_key in item.teams:
                team, product, cost_center = TEAMS[team_key]
                for env in ENV_CHOICES:
                    tags = (
                        f'{{"team":"{team}","env":"{env}","product":"{product}",'
                        f'"cost-center":"{cost_center}"}}'
                    )
                    strings.append(csv_field(tags) or "")
            offsets.append(len(strings))
        self.tags = pa.array(strings)
        self.tag_offsets = np.array(offsets, dtype=np.int64)

    def batches(self) -> Iterator[list[pa.Array]]:
        rng = np.random.default_rng(self.seed)
        self.totals = {}
        for month in self.months:
            builder = _MonthBuilder(self, month, rng)
            yield from builder.regular_batches()
            if self.use_special:
                special = builder.special_batch()
                if special is not None:
                    yield special

    def add_totals(self, currency: str, billed: int, effective: int, rows: int) -> None:
        total = self.totals.setdefault(currency, [0, 0])
        total[0] += billed
        total[1] += effective
        self.rows_written += rows

    def summary(self, path: Path) -> GenerationSummary:
        return GenerationSummary(
            path=path,
            rows=self.rows_written,
            months=[f"{m.start:%Y-%m}" for m in self.months],
            billed_cost={c: Decimal(t[0]).scaleb(-9) for c, t in self.totals.items()},
            effective_cost={c: Decimal(t[1]).scaleb(-9) for c, t in self.totals.items()},
        )


def _month_days(start: datetime.date) -> int:
    return calendar.monthrange(start.year, start.month)[1]


def _usage_days(start: datetime.date, today: datetime.date) -> int:
    if (start.year, start.month) == (today.year, today.month):
        return today.day
    return _month_days(start)


def _base_quantities(items: list[LineItem], factors: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median quantity per row (milli-units) so that a month's rows add up to its target spend.

    Row quantities are lognormal around this median; its mean is ``exp(sigma**2 / 2)`` times
    the median, which the division takes out.
    """
    spend_nano = factors * np.array([i.monthly_spend * 1e9 for i in items])
    price = np.array([_contracted_micro(i) * math.exp(i.sigma**2 / 2) for i in items])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = np.where(counts > 0, spend_nano / np.maximum(counts, 1) / price, 0.0)
    return per_row


def _cap_monthly_rows(items: list[LineItem], weights: np.ndarray, counts: np.ndarray) -> None:
    """Move rows of monthly line items beyond their line count to the daily usage items.

    A subscription has one row per line and month however large the file, so larger files add
    detail to usage instead of splitting a seat into fractions.
    """
    monthly = np.array([i.monthly for i in items])
    caps = np.array([i.n_resources if i.monthly else np.iinfo(np.int64).max for i in items])
    for m in range(counts.shape[0]):
        over = np.maximum(counts[m] - caps, 0)
        usage_weights = np.where(monthly, 0.0, weights[m])
        if not over.any() or usage_weights.sum() == 0:
            continue
        counts[m] -= over
        counts[m] += _largest_remainder(usage_weights, int(over.sum()))


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to ``weights`` that add up to exactly ``total``."""
    if total == 0 or weights.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


# Building the rows of one month ------------------------------------------------------------


class _MonthBuilder:
    """Builds one month's rows: regular usage and purchases in chunks, then the monthly rows."""

    def __init__(self, plan: _Plan, month: _Month, rng: np.random.Generator) -> None:
        self.plan = plan
        self.month = month
        self.rng = rng
        self.items = plan.items
        acct_index = {a.key: n for n, a in enumerate(plan.accounts)}
        self.item_account = np.array([acct_index[i.account] for i in self.items])
        self.billed_by_account = [0] * len(plan.accounts)
        self.covered = {p.key: 0 for p in month.plans}
        self.fee = {p.key: self._fee(p) for p in month.plans}
        self.invoice_ids = [f"INV-{a.invoice_code}-{month.start:%Y%m}" for a in plan.accounts]
        days = [month.start + datetime.timedelta(days=d) for d in range(month.days + 1)]
        self.day_stamps = pa.array([_stamp(d) for d in days])
        self.items_in_plan = {
            p.key: np.array([n for n, i in enumerate(self.items) if i.commitment == p.key])
            for p in month.plans
        }

    def _fee(self, commitment: CommitmentPlan) -> int:
        """The monthly fee in nano-units, sized against the usage it is expected to cover."""
        expected = 0.0
        for n, item in enumerate(self.items):
            if item.commitment == commitment.key:
                mean_qty = self.month.base_qty[n] * math.exp(item.sigma**2 / 2)
                price = _contracted_micro(item) * commitment.rate_pct // 100
                expected += float(self.month.counts[n]) * mean_qty * price
        cents = int(expected * commitment.sizing_pct / 100) // CENT_NANO
        return max(cents, 10_000) * CENT_NANO

    def regular_batches(self) -> Iterator[list[pa.Array]]:
        item_idx = np.repeat(np.arange(len(self.items)), self.month.counts)
        for start in range(0, len(item_idx), CHUNK_ROWS):
            yield self._regular(item_idx[start : start + CHUNK_ROWS])

    def _regular(self, idx: np.ndarray) -> list[pa.Array]:
        n = len(idx)
        items, rng, month = self.items, self.rng, self.month
        monthly = np.array([i.monthly for i in items])[idx]
        n_res = np.array([i.n_resources for i in items])[idx]
        sigma = np.array([i.sigma for i in items])[idx]
        base_qty = month.base_qty[idx]
        list_micro = np.array([i.list_price_micro for i in items], dtype=np.int64)[idx]
        contracted_micro = np.array([_contracted_micro(i) for i in items], dtype=np.int64)[idx]

        # Resource numbers are skewed: a few big resources carry many rows, like real estates.
        resource = (n_res * rng.power(0.6, n)).astype(np.int64)
        day = np.where(monthly, 0, rng.integers(0, month.days, n))
        qty = np.maximum(np.rint(base_qty * rng.lognormal(0.0, sigma)), 1).astype(np.int64)
        # Per-user and per-unit purchases are whole units.
        whole = monthly & np.array([i.consumed_unit is None for i in items])[idx]
        qty = np.where(whole, np.maximum(np.rint(qty / 1000), 1).astype(np.int64) * 1000, qty)

        list_cost = list_micro * qty
        contracted = contracted_micro * qty
        billed = contracted.copy()
        effective = contracted.copy()
        committed = np.zeros(n, dtype=bool)
        plan_of_row = np.full(n, -1)
        for p_n, commitment in enumerate(month.plans):
            covered = self._cover(commitment, idx, qty, contracted_micro)
            committed |= covered
            plan_of_row[covered] = p_n
            effective = np.where(
                covered, contracted_micro * commitment.rate_pct // 100 * qty, effective
            )
        billed[committed] = 0
        self._account_totals(idx, billed, effective, n)

        return self._columns(
            idx, resource, day, qty, list_micro, contracted_micro, list_cost, contracted,
            billed, effective, committed, plan_of_row,
        )  # fmt: skip

    def _cover(
        self, commitment: CommitmentPlan, idx: np.ndarray, qty: np.ndarray,
        contracted_micro: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Mark the eligible rows the commitment covers, in row order, until its fee is used.

        One percent of the fee always stays unused, so every month has an Unused row.
        """
        eligible = np.isin(idx, self.items_in_plan[commitment.key])
        cost = np.where(eligible, contracted_micro * commitment.rate_pct // 100 * qty, 0)
        cap = self.fee[commitment.key] - max(self.fee[commitment.key] // 100, 1)
        running = self.covered[commitment.key] + np.cumsum(cost)
        covered = eligible & (running <= cap)
        self.covered[commitment.key] += int(cost[covered].sum())
        return covered

    def _account_totals(
        self, idx: np.ndarray, billed: np.ndarray, effective: np.ndarray, n: int
    ) -> None:
        accounts = self.item_account[idx]
        for a_n, account in enumerate(self.plan.accounts):
            mask = accounts == a_n
            if not mask.any():
                continue
            b, e = int(billed[mask].sum()), int(effective[mask].sum())
            self.billed_by_account[a_n] += b
            self.plan.add_totals(account.currency, b, e, int(mask.sum()))

    def _columns(
        self, idx: np.ndarray, resource: np.ndarray, day: np.ndarray, qty: np.ndarray,
        list_micro: np.ndarray, contracted_micro: np.ndarray, list_cost: np.ndarray,
        contracted: np.ndarray, billed: np.ndarray, effective: np.ndarray,
        committed: np.ndarray, plan_of_row: np.ndarray,
    ) -> list[pa.Array]:  # fmt: skip
        n = len(idx)
        items, accounts, month = self.items, self.plan.accounts, self.month
        acct = [accounts[i] for i in self.item_account]
        pidx = pa.array(idx)

        def per_item(values: list[str | None]) -> pa.Array:
            return pa.array([csv_field(v) for v in values], pa.string()).take(pidx)

        sub_n = np.array([max(len(a.sub_accounts), 1) for a in acct])[idx]
        sub_pick = (resource * 7 + idx) % sub_n
        sub_table, sub_offsets = _sub_account_table(accounts)
        sub_at = sub_offsets[self.item_account[idx]] + sub_pick
        has_sub = np.array([bool(a.sub_accounts) for a in acct])[idx]
        sub_ids = pc.if_else(pa.array(has_sub), sub_table[0].take(pa.array(sub_at)), None)
        sub_names = pc.if_else(pa.array(has_sub), sub_table[1].take(pa.array(sub_at)), None)
        sub_types = per_item([a.sub_account_type for a in acct])

        reg_n = np.array([max(len(a.regions), 1) for a in acct])[idx]
        reg_table, reg_offsets = _region_table(accounts)
        reg_at = reg_offsets[self.item_account[idx]] + resource % reg_n
        has_region = np.array([bool(a.regions) for a in acct])[idx]
        region_ids = pc.if_else(pa.array(has_region), reg_table[0].take(pa.array(reg_at)), None)
        region_names = pc.if_else(pa.array(has_region), reg_table[1].take(pa.array(reg_at)), None)

        monthly = np.array([i.monthly for i in items])[idx]
        start = self.day_stamps.take(pa.array(day))
        next_day = self.day_stamps.take(pa.array(np.minimum(day + 1, month.days)))
        month_start, month_end = _stamp(month.start), _stamp(month.end)
        # The stamp table runs one day past the last usage day, which for a full month is the
        # first day of the next month.
        day_end = pc.if_else(pa.array(monthly), month_end, next_day)

        res_prefix = [i.resource_prefix for i in items]
        has_res = np.array([p is not None for p in res_prefix])[idx]
        res_num = pc.utf8_lpad(pc.cast(pa.array(resource), pa.string()), width=6, padding="0")
        res_ids = pc.binary_join_element_wise(per_item(res_prefix), res_num, "")
        res_ids = pc.if_else(pa.array(has_res), res_ids, None)
        res_names = pc.binary_join_element_wise(
            per_item([i.key.replace("_", "-") + "-" if i.resource_prefix else None for i in items]),
            res_num, "",
        )  # fmt: skip

        tag_n = np.diff(self.plan.tag_offsets)[idx]
        tag_at = self.plan.tag_offsets[idx] + (resource * 2654435761) % tag_n
        untagged_pct = np.array([i.untagged_pct for i in items])[idx]
        untagged = (resource * 40503 + idx * 7) % 100 < untagged_pct
        tags = pc.if_else(pa.array(untagged), None, self.plan.tags.take(pa.array(tag_at)))

        usage = np.array([i.charge_category == "Usage" for i in items])[idx]
        consumed_per = np.array([i.consumed_per_pricing for i in items], dtype=np.int64)[idx]
        consumed = pc.if_else(pa.array(usage), _fixed_array(qty * consumed_per, 3), None)
        consumed_unit = pc.if_else(pa.array(usage), per_item([i.consumed_unit for i in items]),
                                   None)  # fmt: skip

        plans = self.month.plans
        cd = [
            pc.if_else(pa.array(committed), pa.array(map(csv_field, values), pa.string()).take(
                pa.array(np.maximum(plan_of_row, 0))), None)
            for values in (
                [p.discount_id for p in plans] or [""],
                [p.name for p in plans] or [""],
                ["Spend" for _ in plans] or [""],
                [p.discount_type for p in plans] or [""],
                ["Used" for _ in plans] or [""],
            )
        ]  # fmt: skip
        currency = per_item([a.currency for a in acct])
        effective_s = _fixed_array(effective, 9)
        list_price_s = _fixed_array(list_micro, 6)
        contracted_price_s = _fixed_array(contracted_micro, 6)
        pricing_category = pc.if_else(pa.array(committed), "Committed", "Standard")

        return [
            per_item([a.provider for a in acct]),
            per_item([a.publisher for a in acct]),
            per_item([a.issuer for a in acct]),
            per_item([self.invoice_ids[a_n] for a_n in self.item_account]),
            per_item([a.billing_account_id for a in acct]),
            per_item([a.name for a in acct]),
            per_item([a.account_type for a in acct]),
            sub_ids,
            sub_names,
            pc.if_else(pa.array(has_sub), sub_types, None),
            _repeat(month_start, n),
            _repeat(month_end, n),
            start,
            day_end,
            per_item([i.charge_category for i in items]),
            _repeat(None, n),
            per_item([i.description for i in items]),
            per_item([i.frequency for i in items]),
            _fixed_array(billed, 9),
            effective_s,
            _fixed_array(list_cost, 9),
            _fixed_array(contracted, 9),
            list_price_s,
            contracted_price_s,
            pricing_category,
            _fixed_array(qty, 3),
            per_item([i.pricing_unit for i in items]),
            currency,
            contracted_price_s,
            effective_s,
            list_price_s,
            currency,
            consumed,
            consumed_unit,
            per_item([i.service_name for i in items]),
            per_item([i.service_category for i in items]),
            per_item([i.service_subcategory for i in items]),
            per_item([_sku_id(i) for i in items]),
            per_item([i.sku_meter or i.description for i in items]),
            per_item([_sku_id(i) + "-P1" for i in items]),
            per_item([i.price_details for i in items]),
            res_ids,
            pc.if_else(pa.array(has_res), res_names, None),
            pc.if_else(pa.array(has_res), per_item([i.resource_type for i in items]), None),
            region_ids,
            region_names,
            _repeat(None, n),
            cd[0],
            cd[1],
            cd[2],
            cd[3],
            cd[4],
            pc.if_else(pa.array(committed), effective_s, None),
            pc.if_else(pa.array(committed), currency, None),
            _repeat(None, n),
            _repeat(None, n),
            tags,
        ]

    def special_batch(self) -> list[pa.Array] | None:
        """The month's commitment fees and unused remainders, tax and credits, as one batch."""
        rows: list[dict[str, str | None]] = []
        for commitment in self.month.plans:
            rows.extend(self._commitment_rows(commitment))
        for a_n, basis_points in self.month.credits:
            amount = -(self.billed_by_account[a_n] * basis_points // 10_000 // CENT_NANO)
            rows.append(self._adjustment_row(a_n, "Credit", amount * CENT_NANO))
        for a_n in self.month.taxed:
            rate = self.plan.accounts[a_n].tax_rate_bp
            amount = self.billed_by_account[a_n] * rate // 10_000 // CENT_NANO
            rows.append(self._adjustment_row(a_n, "Tax", amount * CENT_NANO))
        if not rows:
            return None
        return [
            pa.array([csv_field(r.get(c)) for r in rows], pa.string()) for c in FOCUS_12_COLUMNS
        ]

    def _base_row(self, account: Account) -> dict[str, str | None]:
        a_n = self.plan.accounts.index(account)
        return {
            "ProviderName": account.provider,
            "PublisherName": account.publisher,
            "InvoiceIssuerName": account.issuer,
            "InvoiceId": self.invoice_ids[a_n],
            "BillingAccountId": account.billing_account_id,
            "BillingAccountName": account.name,
            "BillingAccountType": account.account_type,
            "BillingPeriodStart": _stamp(self.month.start),
            "BillingPeriodEnd": _stamp(self.month.end),
            "ChargePeriodStart": _stamp(self.month.start),
            "ChargePeriodEnd": _stamp(self.month.end),
            "BillingCurrency": account.currency,
        }

    def _commitment_rows(self, commitment: CommitmentPlan) -> list[dict[str, str | None]]:
        account = next(a for a in self.plan.accounts if a.key == commitment.account)
        item = next(i for i in self.items if i.commitment == commitment.key)
        fee = self.fee[commitment.key]
        unused = fee - self.covered[commitment.key]
        common = {
            **self._base_row(account),
            "ServiceName": item.service_name,
            "ServiceCategory": item.service_category,
            "ServiceSubcategory": item.service_subcategory,
            "SkuId": f"{commitment.key.upper()}-COMMIT",
            "SkuMeter": "Commitment",
            "SkuPriceId": f"{commitment.key.upper()}-COMMIT-P1",
            "ResourceId": commitment.discount_id,
            "ResourceName": commitment.name,
            "ResourceType": commitment.discount_type,
            "CommitmentDiscountId": commitment.discount_id,
            "CommitmentDiscountName": commitment.name,
            "CommitmentDiscountCategory": "Spend",
            "CommitmentDiscountType": commitment.discount_type,
            "CommitmentDiscountUnit": account.currency,
            "ListUnitPrice": "1",
            "ContractedUnitPrice": "1",
            "PricingUnit": account.currency,
            "PricingCurrency": account.currency,
            "PricingCurrencyListUnitPrice": "1",
            "PricingCurrencyContractedUnitPrice": "1",
            "PricingCategory": "Committed",
            "Tags": commitment.tags,
        }
        purchase = {
            **common,
            "ChargeCategory": "Purchase",
            "ChargeDescription": commitment.description,
            "ChargeFrequency": "Recurring",
            "BilledCost": fixed_str(fee, 9),
            "EffectiveCost": "0",
            "ListCost": fixed_str(fee, 9),
            "ContractedCost": fixed_str(fee, 9),
            "PricingQuantity": fixed_str(fee, 9),
            "PricingCurrencyEffectiveCost": "0",
            "CommitmentDiscountQuantity": fixed_str(fee, 9),
        }
        unused_row = {
            **common,
            "ChargeCategory": "Usage",
            "ChargeDescription": f"{commitment.name} unused commitment",
            "ChargeFrequency": "Usage-Based",
            "BilledCost": "0",
            "EffectiveCost": fixed_str(unused, 9),
            "ListCost": fixed_str(unused, 9),
            "ContractedCost": fixed_str(unused, 9),
            "PricingQuantity": fixed_str(unused, 9),
            "PricingCurrencyEffectiveCost": fixed_str(unused, 9),
            "CommitmentDiscountStatus": "Unused",
            "CommitmentDiscountQuantity": fixed_str(unused, 9),
        }
        a_n = self.plan.accounts.index(account)
        self.billed_by_account[a_n] += fee
        self.plan.add_totals(account.currency, fee, unused, 2)
        return [purchase, unused_row]

    def _adjustment_row(self, a_n: int, category: str, amount: int) -> dict[str, str | None]:
        account = self.plan.accounts[a_n]
        item = next(i for i in self.items if i.account == account.key)
        text = fixed_str(amount, 9)
        label = "Tax" if category == "Tax" else "Promotional credit"
        self.plan.add_totals(account.currency, amount, amount, 1)
        return {
            **self._base_row(account),
            "ChargeCategory": category,
            "ChargeDescription": f"{label} on {account.name} for {self.month.start:%B %Y}",
            "ChargeFrequency": "One-Time",
            "BilledCost": text,
            "EffectiveCost": text,
            "ListCost": text,
            "ContractedCost": text,
            "PricingCurrency": account.currency,
            "PricingCurrencyEffectiveCost": text,
            "ServiceName": item.service_name,
            "ServiceCategory": item.service_category,
            "ServiceSubcategory": item.service_subcategory,
        }


def _contracted_micro(item: LineItem) -> int:
    return item.list_price_micro * (100 - item.discount_pct) // 100


def _sku_id(item: LineItem) -> str:
    return item.key.upper().replace("_", "-")


def _sub_account_table(accounts: list[Account]) -> tuple[tuple[pa.Array, pa.Array], np.ndarray]:
    ids: list[str] = []
    names: list[str] = []
    offsets = []
    for account in accounts:
        offsets.append(len(ids))
        for sub_id, sub_name in account.sub_accounts or (("", ""),):
            ids.append(csv_field(sub_id) or "")
            names.append(csv_field(sub_name) or "")
    return (pa.array(ids), pa.array(names)), np.array(offsets, dtype=np.int64)


def _region_table(accounts: list[Account]) -> tuple[tuple[pa.Array, pa.Array], np.ndarray]:
    ids: list[str] = []
    names: list[str] = []
    offsets = []
    for account in accounts:
        offsets.append(len(ids))
        for region_id, region_name in account.regions or (("", ""),):
            ids.append(csv_field(region_id) or "")
            names.append(csv_field(region_name) or "")
    return (pa.array(ids), pa.array(names)), np.array(offsets, dtype=np.int64)
