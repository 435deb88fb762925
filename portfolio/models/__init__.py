"""Models of the portfolio app: spend, allocation, metrics, forecasts, commitments, initiatives."""

from portfolio.models.spend import BillingSlice, Delivery, MonthlySpend, SpendRow

__all__ = ["BillingSlice", "Delivery", "MonthlySpend", "SpendRow"]
