"""Models of the portfolio app: spend, allocation, metrics, forecasts, commitments, initiatives."""

from portfolio.models.allocation import AllocationRule, AllocationTarget, CostCenter
from portfolio.models.commitments import Commitment
from portfolio.models.forecasts import Forecast, ForecastPoint, Scenario, ScenarioAdjustment
from portfolio.models.fx import FxRate
from portfolio.models.initiatives import Initiative, InitiativeStageChange
from portfolio.models.metrics import BusinessMetric, MetricValue, UnitMetric
from portfolio.models.spend import BillingSlice, DailySpend, Delivery, SpendBlock

__all__ = [
    "AllocationRule",
    "AllocationTarget",
    "BillingSlice",
    "BusinessMetric",
    "Commitment",
    "CostCenter",
    "DailySpend",
    "Delivery",
    "Forecast",
    "ForecastPoint",
    "FxRate",
    "Initiative",
    "InitiativeStageChange",
    "MetricValue",
    "Scenario",
    "ScenarioAdjustment",
    "SpendBlock",
    "UnitMetric",
]
