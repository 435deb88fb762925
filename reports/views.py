"""Executive brief pages: each view builds one brief, draws its charts and renders it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from reports.briefs import CurrencySection, Mover, portfolio_brief_build, scope_brief_build
from reports.charts import trend_chart_html
from scopes.selectors import scope_get

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoverGroup:
    label: str
    movers: list[Mover]
    empty: str


@dataclass(frozen=True)
class SectionView:
    """One currency's section of a brief with its chart, ready for the template."""

    data: CurrencySection
    chart: SafeString

    @property
    def mover_groups(self) -> list[MoverGroup]:
        return [
            MoverGroup(
                "Rising", self.data.movers_up, "No service cost more than the month before."
            ),
            MoverGroup(
                "Falling", self.data.movers_down, "No service cost less than the month before."
            ),
        ]


@login_required
def portfolio_brief(request: HttpRequest) -> HttpResponse:
    as_of, error = _as_of_read(request)
    if error:
        return _bad_month(request, error)

    brief = portfolio_brief_build(as_of=as_of)
    context = {"brief": brief, "sections": _sections(brief.currencies), "active": "portfolio"}
    return render(request, "reports/portfolio_brief.html", context)


@login_required
def scope_brief(request: HttpRequest, slug: str) -> HttpResponse:
    scope = scope_get(slug=slug)
    if scope is None:
        raise Http404(f"There is no scope {slug!r}.")
    as_of, error = _as_of_read(request)
    if error:
        return _bad_month(request, error)

    brief = scope_brief_build(scope=scope, as_of=as_of)
    context = {"brief": brief, "sections": _sections(brief.currencies), "active": slug}
    return render(request, "reports/scope_brief.html", context)


def _sections(sections: list[CurrencySection]) -> list[SectionView]:
    # The chart fragment is built by Plotly from our own data, with names escaped as JSON.
    return [SectionView(s, mark_safe(trend_chart_html(section=s))) for s in sections]


def _as_of_read(request: HttpRequest) -> tuple[date | None, str]:
    """The ``month`` query parameter (``YYYY-MM``) as the first day of that month, or an error."""
    raw = request.GET.get("month", "").strip()
    if not raw:
        return None, ""
    try:
        return date.fromisoformat(f"{raw}-01"), ""
    except ValueError:
        message = f"The month {raw!r} is not understood; give it as YYYY-MM, e.g. 2025-03."
        return None, message


def _bad_month(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "reports/bad_request.html", {"message": message}, status=400)
