"""Executive briefs as plain data: one generator per brief, no formatting.

Every figure is kept per billing currency and never summed across currencies. Amounts are exact
Decimals as stored; rounding for display is the formatters' job. Effective cost (what the spend
really costs once discounts and prepaid commitments are spread over the months they cover) is the
headline; billed cost (what the invoices say) stands beside it.

A month the data has not reached the end of yet (billing data arrives a day or two behind, so
on 4 December the newest charges are those of early December) would read as a collapse next to
the full month before it. So when the latest month is incomplete, the brief reports on the
latest *complete* month: the headline, the twelve months, the category and provider columns and
the biggest changes all speak of it and the month before. The incomplete month is shown apart,
as month to date, and compared like for like with the same days of the complete month (1 to 4
December against 1 to 4 November); the trend chart draws it marked as partial. Which days a
month covers is read from the data: the latest end of its charges, leaving out charges that
span the whole month (monthly fees), which reach its end whatever day it is.

Governance (decisions waiting, open guardrail breaches, overdue actions, commitments coming up
for renewal) is the register as it stands today, whatever month the spend figures are for.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Max, Min, Q, QuerySet
from django.utils import timezone

from decisions.selectors import (
    ActionOverdue,
    BreachOpen,
    DecisionWaiting,
    actions_overdue,
    breaches_open,
    decisions_waiting,
)
from finops_exec.personas import person_name
from portfolio import selectors
from portfolio.commitments import Renewal, commitments_renewing
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
# Governance lists stay short so the printed brief keeps to three pages; the totals say the rest.
GOVERNANCE_LIMIT = 5
OVERDUE_ACTIONS_SHOWN = 3
RENEWAL_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Amount:
    """Effective and billed cost of the same set of rows."""

    effective: Decimal = ZERO
    billed: Decimal = ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.effective + other.effective, self.billed + other.billed)


@dataclass(frozen=True)
class Period:
    """The months a brief covers; every month is given by its first day.

    ``this_month`` is the month the brief reports on: the month asked for or the latest month
    with spend, or the month before it when that month is incomplete. Then ``partial_month`` is
    the incomplete month and ``partial_through`` the last day its data reaches. The trend runs
    to the latest month, partial or not; the twelve months end with ``this_month``.
    """

    this_month: date
    last_month: date
    ttm_start: date
    trend_start: date
    as_of_given: bool
    partial_month: date | None = None
    partial_through: date | None = None

    @property
    def trend_months(self) -> list[date]:
        return [_month_add(self.trend_start, n) for n in range(TREND_MONTHS)]

    @property
    def latest_month(self) -> date:
        return self.partial_month or self.this_month

    @property
    def ttm_end(self) -> date:
        """The last day of the twelve months: the last day of ``this_month``."""
        return _month_add(self.this_month, 1) - timedelta(days=1)

    @property
    def comparison_through(self) -> date | None:
        """With a partial month, the same day of ``this_month`` (its last day at most)."""
        if self.partial_through is None:
            return None
        # 1 to 30 March compares with 1 to 28 February: a day number past the month's end
        # stops at its last day.
        return self.this_month.replace(day=min(self.partial_through.day, self.ttm_end.day))


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
    """One month of the trend; ``through`` is the last day with data when it is partial."""

    month: date
    total: Amount
    by_category: dict[str, Decimal]
    through: date | None = None


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
class MonthToDate:
    """The incomplete month's spend set against the same days of the month before.

    The days are those of the period: ``partial_month`` to ``partial_through`` against
    ``this_month`` to ``comparison_through``. ``change_ratio`` is None when the earlier days
    cost nothing.
    """

    amount: Amount
    same_days_before: Amount
    change: Decimal
    change_ratio: Decimal | None


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
    month_to_date: MonthToDate | None = None


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
class Governance:
    """What waits for a decision or an action, as of ``today``.

    Each list holds at most a few items, the most pressing first; the ``*_total`` counts say
    how many there are in all.
    """

    today: date
    decisions: list[DecisionWaiting]
    decisions_total: int
    decisions_overdue: int
    breaches: list[BreachOpen]
    breaches_total: int
    actions_overdue: list[ActionOverdue]
    actions_overdue_total: int
    renewals: list[Renewal]
    renewals_total: int
    renewal_window_days: int = RENEWAL_WINDOW_DAYS

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.decisions_total
            or self.breaches_total
            or self.actions_overdue_total
            or self.renewals_total
        )


@dataclass(frozen=True)
class PortfolioBrief:
    period: Period | None
    currencies: list[CurrencySection]
    freshness: DataFreshness
    governance: Governance


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
    governance: Governance
    rule_count: int = 0


@dataclass
class _Totals:
    """Sums per currency and key, filled from summary rows."""

    by_key: dict[tuple[Any, ...], Amount] = field(default_factory=lambda: defaultdict(Amount))
    row_count: int = 0

    def add(self, key: tuple[Any, ...], row: Mapping[str, Any]) -> None:
        self.by_key[key] = self.by_key[key] + Amount(row["effective_cost"], row["billed_cost"])
        self.row_count += row["row_count"]


def portfolio_brief_build(
    *, as_of: date | None = None, today: date | None = None
) -> PortfolioBrief:
    """The whole portfolio's spend, per currency, with the share that no scope claims, and the
    governance register as of ``today`` (the local date when not given).

    The brief reports on the month of ``as_of`` when given, otherwise the latest month that has
    spend; when the data stops before that month's end, on the month before it (see the module
    docstring).
    """
    today = today or timezone.localdate()
    current = selectors.spend_current()
    period = _period_find(rows=current, as_of=as_of, today=today)
    governance = _governance(today=today, scope=None)
    if period is None:
        return PortfolioBrief(None, [], _freshness(rows=current), governance)

    unallocated = _month_currency_totals(rows=selectors.spend_unallocated(), period=period)
    sections = _sections_build(rows=current, period=period)
    sections = [_with_share(section, unallocated, attribute="unallocated") for section in sections]
    logger.info("portfolio brief as of %s: %s currencies", period.this_month, len(sections))
    return PortfolioBrief(period, sections, _freshness(rows=current), governance)


def scope_brief_build(
    *, scope: Scope, as_of: date | None = None, today: date | None = None
) -> ScopeBrief:
    """One scope's spend, per currency, with its share of the whole portfolio, and the
    governance register of the scope as of ``today`` (the local date when not given).

    The months follow the portfolio, not the scope: a scope with nothing this month shows zero
    rather than an older month, so that every brief of the same day speaks of the same month.
    """
    today = today or timezone.localdate()
    current = selectors.spend_current()
    period = _period_find(rows=current, as_of=as_of, today=today)
    info = _scope_info(scope)
    rule_count = scope.rules.count()
    governance = _governance(today=today, scope=scope)
    if period is None:
        return ScopeBrief(info, None, [], _freshness(rows=current), governance, rule_count)

    portfolio = _month_currency_totals(rows=current, period=period)
    sections = _sections_build(rows=selectors.spend_for_scope(scope=scope), period=period)
    sections = [
        _with_share(section, portfolio, attribute="portfolio_share", inverse=True)
        for section in sections
    ]
    logger.info(
        "scope brief %s as of %s: %s currencies", scope.slug, period.this_month, len(sections)
    )
    return ScopeBrief(info, period, sections, _freshness(rows=current), governance, rule_count)


def _period_find(*, rows: QuerySet, as_of: date | None, today: date) -> Period | None:
    if as_of is not None:
        latest = as_of.replace(day=1)
    else:
        # Charges dated after this month are data errors, not news: one row dated 2099 must
        # not make the brief report on an empty month (the conformance report flags them).
        present = rows.filter(charge_month__lte=today.replace(day=1))
        latest = present.aggregate(latest=Max("charge_month"))["latest"]
        if latest is None:
            return None
    through = _month_covered_through(rows=rows, month=latest)
    # TODO: when the data begins in the incomplete month there is no complete month to report
    # on, and the brief shows zeros for the month before beside the month to date.
    partial = through is not None and through < _month_last_day(latest)
    this_month = _month_add(latest, -1) if partial else latest
    return Period(
        this_month=this_month,
        last_month=_month_add(this_month, -1),
        ttm_start=_month_add(this_month, 1 - TTM_MONTHS),
        trend_start=_month_add(latest, 1 - TREND_MONTHS),
        as_of_given=as_of is not None,
        partial_month=latest if partial else None,
        partial_through=through if partial else None,
    )


def _month_covered_through(*, rows: QuerySet, month: date) -> date | None:
    """The last day of ``month`` that the rows' charges reach, or None when it has no rows.

    A charge spanning the whole month (a monthly fee, a subscription) reaches the month's end
    whatever day the data was exported, so it counts only when the month has no shorter charge.
    """
    span = rows.filter(charge_month=month).aggregate(
        shorter=Max("charge_period_end", filter=Q(whole_month=False)), any=Max("charge_period_end")
    )
    newest = span["shorter"] or span["any"]
    if newest is None:
        return None
    # FOCUS charge periods end exclusively: a charge ending at midnight covers the day before.
    return min((newest - timedelta(microseconds=1)).date(), _month_last_day(month))


def _data_through(*, rows: QuerySet) -> date | None:
    """The last day the rows' charges reach, read as for the latest month of the brief."""
    latest = rows.aggregate(latest=Max("charge_month"))["latest"]
    return None if latest is None else _month_covered_through(rows=rows, month=latest)


def _sections_build(*, rows: QuerySet, period: Period) -> list[CurrencySection]:
    window = rows.filter(
        charge_month__gte=period.trend_start, charge_month__lte=period.latest_month
    )
    by_category = _sum_by(window, ("month", "technology_category"))
    by_provider = _sum_by(window, ("month", "provider_name"))
    recent = window.filter(charge_month__in=(period.last_month, period.this_month))
    by_service = _sum_by(recent, ("month", "provider_name", "service_name"))
    to_date = _month_to_date(rows=rows, period=period)

    return [
        _section(
            currency=currency,
            period=period,
            by_category=by_category[currency],
            by_provider=by_provider[currency],
            by_service=by_service[currency],
            month_to_date=to_date.get(currency),
        )
        # Amounts in different currencies are not comparable; the busiest currency leads.
        for currency in sorted(by_category, key=lambda c: (-by_category[c].row_count, c))
    ]


def _month_to_date(*, rows: QuerySet, period: Period) -> dict[str, MonthToDate]:
    """Per currency, the partial month against the same days of ``this_month``; empty when no
    month is partial.

    A row counts for the earlier days when its charge starts on one of them, so a monthly fee
    charged on the first counts in both months, as it should.
    """
    if period.partial_month is None or period.comparison_through is None:
        return {}
    window = rows.filter(
        Q(charge_month=period.partial_month)
        | Q(charge_month=period.this_month, charge_day__lte=period.comparison_through)
    )
    now: dict[str, Amount] = defaultdict(Amount)
    before: dict[str, Amount] = defaultdict(Amount)
    for row in selectors.spend_summarise(rows=window, group_by=("month",)):
        target = now if row["month"] == period.partial_month else before
        currency = row["billing_currency"]
        target[currency] = target[currency] + Amount(row["effective_cost"], row["billed_cost"])

    return {
        currency: MonthToDate(
            amount=now[currency],
            same_days_before=before[currency],
            change=now[currency].effective - before[currency].effective,
            change_ratio=_ratio(
                now[currency].effective - before[currency].effective, before[currency].effective
            ),
        )
        for currency in set(now) | set(before)
    }


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
    month_to_date: MonthToDate | None,
) -> CurrencySection:
    monthly: dict[date, Amount] = defaultdict(Amount)
    for (month, _), amount in by_category.by_key.items():
        monthly[month] = monthly[month] + amount

    this_month, last_month = monthly[period.this_month], monthly[period.last_month]
    ttm = _sum_amounts(a for m, a in monthly.items() if period.ttm_start <= m <= period.this_month)
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
        trend_categories=_trend_categories(by_category, categories=categories),
        movers_up=[m for m in movers if m.change > 0][:MOVERS_LIMIT],
        movers_down=sorted((m for m in movers if m.change < 0), key=_mover_down_key)[:MOVERS_LIMIT],
        month_to_date=_month_to_date_or_nothing(month_to_date, period=period),
    )


def _month_to_date_or_nothing(to_date: MonthToDate | None, *, period: Period) -> MonthToDate | None:
    """A currency with no spend in the compared days still has a (zero) month to date."""
    if period.partial_month is None:
        return None
    return to_date or MonthToDate(Amount(), Amount(), ZERO, None)


def _trend_categories(totals: _Totals, *, categories: list[BreakdownLine]) -> list[str]:
    """The breakdown's order, then categories seen only in the trend's other months."""
    names = [line.name for line in categories]
    others = sorted({name for (_, name) in totals.by_key} - set(names))
    return names + others


def _breakdown(
    totals: _Totals, *, period: Period, this_total: Amount, ttm_total: Amount
) -> list[BreakdownLine]:
    """Lines by name over this month and twelve months, largest twelve-month spend first."""
    this_month: dict[str, Amount] = defaultdict(Amount)
    ttm: dict[str, Amount] = defaultdict(Amount)
    for (month, name), amount in totals.by_key.items():
        if month == period.this_month:
            this_month[name] = this_month[name] + amount
        if period.ttm_start <= month <= period.this_month:
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
            through=period.partial_through if month == period.partial_month else None,
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


# Warnings that say what a delivery replaced, not that its data is doubtful.
_NOTICES = frozenset({"superseded_slice"})


def _freshness(*, rows: QuerySet) -> DataFreshness:
    # The latest delivery that brought rows: a replay of files already loaded brings none.
    delivery = (
        Delivery.objects.filter(
            status=Delivery.Status.LOADED, duplicate_of__isnull=True, rows_loaded__gt=0
        )
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .first()
    )
    oldest = rows.aggregate(oldest=Min("charge_period_start"))["oldest"]
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
        warnings_count=(
            sum(1 for w in delivery.warnings if w.get("code") not in _NOTICES) if delivery else 0
        ),
        focus_version=delivery.focus_version if delivery else "",
        oldest_charge_date=oldest.date() if oldest else None,
        # Not the latest charge end: a monthly fee would claim the whole month already.
        newest_charge_date=_data_through(rows=rows),
    )


def _governance(*, today: date, scope: Scope | None) -> Governance:
    decisions = decisions_waiting(scope=scope)
    breaches = breaches_open(scope=scope)
    overdue = actions_overdue(today=today, scope=scope)
    renewals = commitments_renewing(within_days=RENEWAL_WINDOW_DAYS, today=today, scope=scope)
    return Governance(
        today=today,
        decisions=decisions[:GOVERNANCE_LIMIT],
        decisions_total=len(decisions),
        decisions_overdue=sum(1 for d in decisions if d.due_on is not None and d.due_on < today),
        breaches=breaches[:GOVERNANCE_LIMIT],
        breaches_total=len(breaches),
        actions_overdue=overdue[:OVERDUE_ACTIONS_SHOWN],
        actions_overdue_total=len(overdue),
        renewals=renewals[:GOVERNANCE_LIMIT],
        renewals_total=len(renewals),
    )


def _scope_info(scope: Scope) -> ScopeInfo:
    return ScopeInfo(
        name=scope.name,
        slug=scope.slug,
        description=scope.description,
        priority=scope.priority.name if scope.priority else "",
        sponsor=person_name(scope.sponsor),
        owner=person_name(scope.owner),
        review_cadence=scope.get_review_cadence_display(),
        maturity=scope.get_maturity_display(),
    )


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


def _month_last_day(month: date) -> date:
    return _month_add(month, 1) - timedelta(days=1)
