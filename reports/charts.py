"""Charts of brief data as Plotly figures, rendered to HTML fragments for the brief templates.

The fragments carry no plotly.js of their own: the page loads it once from the app's static files
(never a CDN, so briefs render offline and behind firewalls). Charts are static and sized to the
printed page, so the screen and the PDF show the same picture.
"""

from __future__ import annotations

import logging

import plotly.graph_objects as go
import plotly.io as pio

from finops_exec.exact import money_round
from reports.briefs import CurrencySection

logger = logging.getLogger(__name__)

# The printable width of an A4 page with 15 mm margins is 180 mm, about 680 CSS pixels.
CHART_WIDTH = 680
CHART_HEIGHT = 280

CHART_CONFIG = {"displayModeBar": False, "staticPlot": True, "responsive": False}

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

# Fixed colours for the usual categories, so a category looks the same on every brief.
CATEGORY_COLOURS = {
    "Public Cloud": "#2563a8",
    "SaaS": "#2f9e6b",
    "AI": "#7b4fc9",
    "Licensing": "#d9822b",
    "Data Center": "#6b7a8f",
    "Private Cloud": "#1f9aa6",
}
SPARE_COLOURS = ("#c2415d", "#8c6d1f", "#4d7f2a", "#9c4f96", "#3d5a80", "#a0522d")

# A month the data has not reached the end of is drawn faint, so its short bar does not read as
# a fall in spend, and is labelled with the last day it covers.
PARTIAL_OPACITY = 0.4


def category_colours(names: list[str]) -> dict[str, str]:
    """A colour per category name: the fixed one when known, otherwise the next spare colour."""
    colours: dict[str, str] = {}
    spare = iter(SPARE_COLOURS * (len(names) // len(SPARE_COLOURS) + 1))
    for name in names:
        colours[name] = CATEGORY_COLOURS.get(name) or next(spare)
    return colours


def trend_figure(*, section: CurrencySection) -> go.Figure:
    """Monthly effective cost over the trend months, one stacked bar segment per category.

    A partial month (one with ``through`` set) is drawn faint and labelled "to 4 Dec".
    """
    months = [point.month.isoformat() for point in section.trend]
    opacity = [PARTIAL_OPACITY if point.through else 1.0 for point in section.trend]
    colours = category_colours(section.trend_categories)
    figure = go.Figure()
    # Largest category first, so it sits at the bottom of every bar.
    for name in section.trend_categories:
        figure.add_trace(
            go.Bar(
                name=name,
                x=months,
                # Plotly draws with floats; the exact Decimals stay in the brief's tables.
                y=[float(money_round(point.by_category.get(name))) for point in section.trend],
                marker_color=colours[name],
                marker_opacity=opacity,
            )
        )
    for point in section.trend:
        if point.through:
            figure.add_annotation(
                x=point.month.isoformat(),
                y=float(money_round(point.total.effective)),
                text=f"to {point.through.day} {point.through:%b}",
                showarrow=False,
                yanchor="bottom",
                font={"size": 11, "color": "#5f6b7a"},
            )
    figure.update_layout(
        barmode="stack",
        template="simple_white",
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        margin={"l": 70, "r": 10, "t": 10, "b": 40},
        font={"family": FONT_FAMILY, "size": 12, "color": "#1f2933"},
        legend={"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
        bargap=0.25,
        showlegend=True,
    )
    figure.update_xaxes(type="date", tickformat="%b<br>%Y", dtick="M1", ticks="")
    figure.update_yaxes(
        title_text=f"Effective cost, {section.currency}",
        tickformat=",.0f",
        gridcolor="#e4e7eb",
        showgrid=True,
        rangemode="tozero",
    )
    return figure


def trend_chart_html(*, section: CurrencySection) -> str:
    """The trend chart as a ``<div>`` with its drawing script, without plotly.js itself."""
    return pio.to_html(
        trend_figure(section=section),
        config=CHART_CONFIG,
        include_plotlyjs=False,
        full_html=False,
        default_width=f"{CHART_WIDTH}px",
        default_height=f"{CHART_HEIGHT}px",
        div_id=f"trend-{section.currency.lower()}",
    )
