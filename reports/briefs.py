"""Executive briefs as plain data: one generator per brief, no formatting.

Every figure is kept per billing currency and never summed across currencies. Amounts are exact
Decimals as stored; rounding for display is the formatters' job. Effective cost (what the spend
really costs once discounts and prepaid commitments are spread over the months they cover) is the
headline; billed cost (what the invoices say) stands beside it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Max, Min, QuerySet

from portfolio import selectors
from portfolio.focus.conformance import findings_summary
from portfolio.models import BillingSlice, Delivery
from scopes.models import Scope

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
TTM_MONTHS = 12
TREND_MONTHS = 13
MOVERS_LIMIT = 5
PROVIDERS_LIMIT = 8
OTHER_PROVIDERS = "All other providers"


@dataclass(frozen=True)
class Amount:
    """Effective and billed cost of the same set of rows."""

    effective: Decimal = ZERO
    billed: Decimal = ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.effective + other.effective, self.billed + other.billed)


@dataclass(frozen=True)
class Period:
    """The months a brief covers; every date is the first day of its month."""

    this_month: date
    last_month: date
    ttm_start: date
    trend_start: date
    as_of_given: bool

    @property
    def trend_months(self) -> list[date]:
        return [_month_add(self.trend_start, n) for n in range(TREND_MONTHS)]


@dataclass(frozen=True)
class BreakdownLine:
    """One category or provider: its spend this month and over twelve months, with shares.

    A share is a fraction (0 to 1) of the currency's effective cost in the same period, or None
    when that total is zero.
    """

    name: str
    this_month: Amount
    ttm: Amount
    share_this_month: Decimal | None
    share_ttm: Decimal | None


@dataclass(frozen=True)
class TrendMonth:
    month: date
    total: Amount
    by_category: dict[str, Decimal]


@dataclass(frozen=True)
class Mover:
    """A service whose effective cost changed from last month to this month.

    ``change_ratio`` is the change as a fraction of last month, or None when last month was zero.
    """

    provider_name: str
    service_name: str
    last_month: Decimal
    this_month: Decimal
    change: Decimal
    change_ratio: Decimal | None


@dataclass(frozen=True)
class ShareOf:
    """A part of the spend set against a larger whole, this month and over twelve months.

    Shares are fractions of the wholes' effective cost, or None when a whole is zero.
    """

    this_month: Amount
    ttm: Amount
    whole_this_month: Amount
    whole_ttm: Amount
    share_this_month: Decimal | None
    share_ttm: Decimal | None


@dataclass(frozen=True)
class CurrencySection:
    """Everything a brief says about the spend billed in one currency."""

    currency: str
    this_month: Amount
    last_month: Amount
    ttm: Amount
    change: Decimal
    change_ratio: Decimal | None
    categories: list[BreakdownLine]
    providers: list[BreakdownLine]
    trend: list[TrendMonth]
    trend_categories: list[str]
    movers_up: list[Mover]
    movers_down: list[Mover]
    unallocated: ShareOf | None = None
    portfolio_share: ShareOf | None = None


@dataclass(frozen=True)
class DataFreshness:
    """The last loaded delivery and the span of charge dates behind the brief."""

    delivery_id: int | None = None
    loaded_at: datetime | None = None
    rows_loaded: int = 0
    warnings_count: int = 0
    focus_version: str = ""
    oldest_charge_date: date | None = None
    newest_charge_date: date | None = None
    # Conformance findings of the deliveries whose billing periods are current.
    findings_count: int = 0
    findings_top: str = ""
    findings_top_rows: int = 0


@dataclass(frozen=True)
class PortfolioBrief:
    period: Period | None
    currencies: list[CurrencySection]
    freshness: DataFreshness


@dataclass(frozen=True)
class ScopeInfo:
    name: str
    slug: str
    description: str
    priority: str
    sponsor: str
    owner: str
    review_cadence: str
    maturity: str


@dataclass(frozen=True)
class ScopeBrief:
    scope: ScopeInfo
    period: Period | None
    currencies: list[CurrencySection]
    freshness: DataFreshness
    rule_count: int = 0


@dataclass
class _Totals:
    """Sums per currency and key, filled from summary rows."""

    by_key: dict[tuple[Any, ...], Amount] = field(default_factory=lambda: defaultdict(Amount))
    row_count: int = 0

    def add(self, key: tuple[Any, ...], row: Mapping[str, Any]) -> None:
        self.by_key[key] = self.by_key[key] + Amount(row["effective_cost"], row["billed_cost"])
        self.row_count += row["row_count"]


def portfolio_brief_build(*, as_of: date | None = None) -> PortfolioBrief:
    """The whole portfolio's spend, per currency, with the share that no scope claims.

    "This month" is the month of ``as_of`` when given, otherwise the latest month that has spend.
    """
    current = selectors.spend_rows_current()
    period = _period_find(rows=current, as_of=as_of)
    if period is None:
        return PortfolioBrief(period=None, currencies=[], freshness=_freshness(rows=current))

    unallocated = _month_currency_totals(rows=selectors.spend_rows_unallocated(), period=period)
    sections = _sections_build(rows=current, period=period)
    sections = [_with_share(section, unallocated, attribute="unallocated") for section in sections]
    logger.info("portfolio brief as of %s: %s currencies", period.this_month, len(sections))
    return PortfolioBrief(period=period, currencies=sections, freshness=_freshness(rows=current))


def scope_brief_build(*, scope: Scope, as_of: date | None = None) -> ScopeBrief:
    """One scope's spend, per currency, with its share of the whole portfolio.

    The months follow the portfolio, not the scope: a scope with nothing this month shows zero
    rather than an older month, so that every brief of the same day speaks of the same month.
    """
    current = selectors.spend_rows_current()
    period = _period_find(rows=current, as_of=as_of)
    info = _scope_info(scope)
    rule_count = scope.rules.count()
    if period is None:
        return ScopeBrief(info, None, [], _freshness(rows=current), rule_count)

    portfolio = _month_currency_totals(rows=current, period=period)
    sections = _sections_build(rows=selectors.spend_rows_for_scope(scope=scope), period=period)
    sections = [
        _with_share(section, portfolio, attribute="portfolio_share", inverse=True)
        for section in sections
    ]
    logger.info(
        "scope brief %s as of %s: %s currencies", scope.slug, period.this_month, len(sections)
    )
    return ScopeBrief(info, period, sections, _freshness(rows=current), rule_count)


def _period_find(*, rows: QuerySet, as_of: date | None) -> Period | None:
    if as_of is not None:
        this_month = as_of.replace(day=1)
    else:
        months = [r["month"] for r in selectors.spend_summarise(rows=rows, group_by=("month",))]
        if not months:
            return None
        this_month = max(months)
    return Period(
        this_month=this_month,
        last_month=_month_add(this_month, -1),
        ttm_start=_month_add(this_month, 1 - TTM_MONTHS),
        trend_start=_month_add(this_month, 1 - TREND_MONTHS),
        as_of_given=as_of is not None,
    )


def _sections_build(*, rows: QuerySet, period: Period) -> list[CurrencySection]:
    window = rows.filter(charge_month__gte=period.trend_start, charge_month__lte=period.this_month)
    by_category = _sum_by(window, ("month", "technology_category"))
    by_provider = _sum_by(window, ("month", "provider_name"))
    recent = window.filter(charge_month__gte=period.last_month)
    by_service = _sum_by(recent, ("month", "provider_name", "service_name"))

    return [
        _section(
            currency=currency,
            period=period,
            by_category=by_category[currency],
            by_provider=by_provider[currency],
            by_service=by_service[currency],
        )
        # Amounts in different currencies are not comparable; the busiest currency leads.
        for currency in sorted(by_category, key=lambda c: (-by_category[c].row_count, c))
    ]


def _sum_by(rows: QuerySet, group_by: tuple[str, ...]) -> defaultdict[str, _Totals]:
    """Summary rows per currency, keyed by (month, *other dimensions)."""
    totals: defaultdict[str, _Totals] = defaultdict(_Totals)
    for row in selectors.spend_summarise(rows=rows, group_by=group_by):
        key = (row["month"], *(row[name] or "" for name in group_by[1:]))
        totals[row["billing_currency"]].add(key, row)
    return totals


def _section(
    *,
    currency: str,
    period: Period,
    by_category: _Totals,
    by_provider: _Totals,
    by_service: _Totals,
) -> CurrencySection:
    monthly: dict[date, Amount] = defaultdict(Amount)
    for (month, _), amount in by_category.by_key.items():
        monthly[month] = monthly[month] + amount

    this_month, last_month = monthly[period.this_month], monthly[period.last_month]
    ttm = _sum_amounts(a for m, a in monthly.items() if m >= period.ttm_start)
    change = this_month.effective - last_month.effective
    categories = _breakdown(by_category, period=period, this_total=this_month, ttm_total=ttm)
    providers = _breakdown(by_provider, period=period, this_total=this_month, ttm_total=ttm)
    movers = _movers(by_service, period=period)
    return CurrencySection(
        currency=currency,
        this_month=this_month,
        last_month=last_month,
        ttm=ttm,
        change=change,
        change_ratio=_ratio(change, last_month.effective),
        categories=categories,
        providers=_top_providers(providers, this_total=this_month, ttm_total=ttm),
        trend=_trend(by_category, period=period, monthly=monthly),
        trend_categories=[line.name for line in categories],
        movers_up=[m for m in movers if m.change > 0][:MOVERS_LIMIT],
        movers_down=sorted((m for m in movers if m.change < 0), key=_mover_down_key)[:MOVERS_LIMIT],
    )


def _breakdown(
    totals: _Totals, *, period: Period, this_total: Amount, ttm_total: Amount
) -> list[BreakdownLine]:
    """Lines by name over this month and twelve months, largest twelve-month spend first."""
    this_month: dict[str, Amount] = defaultdict(Amount)
    ttm: dict[str, Amount] = defaultdict(Amount)
    for (month, name), amount in totals.by_key.items():
        if month == period.this_month:
            this_month[name] = this_month[name] + amount
        if month >= period.ttm_start:
            ttm[name] = ttm[name] + amount

    lines = [
        _line(name, this_month[name], ttm[name], this_total=this_total, ttm_total=ttm_total)
        for name in set(this_month) | set(ttm)
    ]
    return sorted(
        lines, key=lambda line: (-line.ttm.effective, -line.this_month.effective, line.name)
    )


def _line(
    name: str, this_month: Amount, ttm: Amount, *, this_total: Amount, ttm_total: Amount
) -> BreakdownLine:
    return BreakdownLine(
        name=name,
        this_month=this_month,
        ttm=ttm,
        share_this_month=_ratio(this_month.effective, this_total.effective),
        share_ttm=_ratio(ttm.effective, ttm_total.effective),
    )


def _top_providers(
    lines: list[BreakdownLine], *, this_total: Amount, ttm_total: Amount
) -> list[BreakdownLine]:
    """The largest providers by name; the rest folded into one line so the brief stays short."""
    if len(lines) <= PROVIDERS_LIMIT:
        return lines
    top, rest = lines[: PROVIDERS_LIMIT - 1], lines[PROVIDERS_LIMIT - 1 :]
    other = _line(
        OTHER_PROVIDERS,
        _sum_amounts(line.this_month for line in rest),
        _sum_amounts(line.ttm for line in rest),
        this_total=this_total,
        ttm_total=ttm_total,
    )
    return [*top, other]


def _trend(totals: _Totals, *, period: Period, monthly: Mapping[date, Amount]) -> list[TrendMonth]:
    by_month: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for (month, name), amount in totals.by_key.items():
        by_month[month][name] += amount.effective
    return [
        TrendMonth(
            month=month,
            total=monthly.get(month, Amount()),
            by_category=dict(by_month.get(month, {})),
        )
        for month in period.trend_months
    ]


def _movers(totals: _Totals, *, period: Period) -> list[Mover]:
    """Services by month-over-month change of effective cost, largest increase first."""
    pairs: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for (month, provider, service), amount in totals.by_key.items():
        pairs[(provider, service)][0 if month == period.last_month else 1] += amount.effective

    movers = [
        Mover(provider, service, last, this, this - last, _ratio(this - last, last))
        for (provider, service), (last, this) in pairs.items()
    ]
    return sorted(movers, key=lambda m: (-m.change, m.provider_name, m.service_name))


def _mover_down_key(mover: Mover) -> tuple[Decimal, str, str]:
    return (mover.change, mover.provider_name, mover.service_name)


def _month_currency_totals(*, rows: QuerySet, period: Period) -> dict[str, tuple[Amount, Amount]]:
    """Per currency, the rows' spend this month and over twelve months."""
    window = rows.filter(charge_month__gte=period.ttm_start, charge_month__lte=period.this_month)
    this_month: dict[str, Amount] = defaultdict(Amount)
    ttm: dict[str, Amount] = defaultdict(Amount)
    for row in selectors.spend_summarise(rows=window, group_by=("month",)):
        amount = Amount(row["effective_cost"], row["billed_cost"])
        currency = row["billing_currency"]
        ttm[currency] = ttm[currency] + amount
        if row["month"] == period.this_month:
            this_month[currency] = this_month[currency] + amount
    return {currency: (this_month[currency], ttm[currency]) for currency in ttm}


def _with_share(
    section: CurrencySection,
    others: Mapping[str, tuple[Amount, Amount]],
    *,
    attribute: str,
    inverse: bool = False,
) -> CurrencySection:
    """Attach ``others`` as a part of the section's totals or, with ``inverse``, as the whole
    that the section's totals are a part of."""
    other_month, other_ttm = others.get(section.currency, (Amount(), Amount()))
    part, whole = (section.this_month, section.ttm), (other_month, other_ttm)
    if not inverse:
        part, whole = whole, part
    share = ShareOf(
        this_month=part[0],
        ttm=part[1],
        whole_this_month=whole[0],
        whole_ttm=whole[1],
        share_this_month=_ratio(part[0].effective, whole[0].effective),
        share_ttm=_ratio(part[1].effective, whole[1].effective),
    )
    return replace(section, **{attribute: share})


def _freshness(*, rows: QuerySet) -> DataFreshness:
    delivery = (
        Delivery.objects.filter(status=Delivery.Status.LOADED)
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .first()
    )
    span = rows.aggregate(oldest=Min("charge_period_start"), newest=Max("charge_period_end"))
    oldest, newest = span["oldest"], span["newest"]
    current = BillingSlice.objects.filter(is_current=True).values("delivery_id")
    findings, top, top_rows = findings_summary(
        reports=Delivery.objects.filter(pk__in=current).values_list("conformance", flat=True)
    )
    return DataFreshness(
        findings_count=findings,
        findings_top=top or "",
        findings_top_rows=top_rows,
        delivery_id=delivery.pk if delivery else None,
        loaded_at=(delivery.finished_at or delivery.updated_at) if delivery else None,
        rows_loaded=delivery.rows_loaded if delivery else 0,
        warnings_count=len(delivery.warnings) if delivery else 0,
        focus_version=delivery.focus_version if delivery else "",
        oldest_charge_date=oldest.date() if oldest else None,
        # FOCUS charge periods end exclusively: a charge ending at midnight covers the day before.
        newest_charge_date=(newest - timedelta(microseconds=1)).date() if newest else None,
    )


def _scope_info(scope: Scope) -> ScopeInfo:
    return ScopeInfo(
        name=scope.name,
        slug=scope.slug,
        description=scope.description,
        priority=scope.priority.name if scope.priority else "",
        sponsor=_person(scope.sponsor),
        owner=_person(scope.owner),
        review_cadence=scope.get_review_cadence_display(),
        maturity=scope.get_maturity_display(),
    )


def _person(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part / whole


def _sum_amounts(amounts: Iterable[Amount]) -> Amount:
    total = Amount()
    for amount in amounts:
        total = total + amount
    return total


def _month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
