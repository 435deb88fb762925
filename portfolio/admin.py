"""Admin for spend (read-only), allocation, metrics, forecasts, commitments and initiatives."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portfolio.models import (
    AllocationRule,
    AllocationTarget,
    BillingSlice,
    BusinessMetric,
    Commitment,
    CostCenter,
    DailySpend,
    Delivery,
    Forecast,
    ForecastPoint,
    Initiative,
    InitiativeStageChange,
    MetricValue,
    Scenario,
    ScenarioAdjustment,
    SpendBlock,
    UnitMetric,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Spend is written by ingest only: the admin shows it and never changes it."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "status", "source", "focus_version", "rows_read", "rows_loaded", "rows_rejected",
        "created_by", "created_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "source", "focus_version"]
    search_fields = ["content_sha256", "error_message"]
    date_hierarchy = "created_at"


@admin.register(BillingSlice)
class BillingSliceAdmin(ReadOnlyAdmin):
    list_display = [
        "billing_account_id", "billing_period_start", "delivery", "row_count", "is_current"
    ]  # fmt: skip
    list_filter = ["is_current"]
    search_fields = ["billing_account_id"]


@admin.register(DailySpend)
class DailySpendAdmin(ReadOnlyAdmin):
    list_display = [
        "charge_day", "provider_name", "service_name", "charge_category", "billed_cost",
        "effective_cost", "billing_currency", "technology_category", "row_count",
    ]  # fmt: skip
    list_filter = ["technology_category", "charge_category", "billing_currency", "charge_month"]
    search_fields = ["provider_name", "service_name", "billing_account_id", "sub_account_id"]
    list_select_related = ["technology_category"]
    show_full_result_count = False


@admin.register(SpendBlock)
class SpendBlockAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "index", "row_count", "created_at"]
    # The Parquet bytes (megabytes a block) are neither shown nor read for the pages.
    exclude = ["data"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpendBlock]:
        return super().get_queryset(request).defer("data")


@admin.register(CostCenter)
class CostCenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "tag_value", "owner", "parent", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "tag_value"]
    autocomplete_fields = ["owner", "parent"]


class AllocationTargetInline(admin.TabularInline):
    model = AllocationTarget
    extra = 0
    autocomplete_fields = ["scope", "cost_center"]


@admin.register(AllocationRule)
class AllocationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "method", "target_kind", "source_scope", "technology_category", "valid_from",
        "valid_to", "is_active",
    ]  # fmt: skip
    list_filter = ["method", "target_kind", "is_active"]
    search_fields = ["name", "description"]
    inlines = [AllocationTargetInline]


class MetricValueInline(admin.TabularInline):
    model = MetricValue
    extra = 0
    fields = ["period_start", "period_end", "value", "source"]


@admin.register(BusinessMetric)
class BusinessMetricAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "aggregation", "scope", "priority", "owner"]
    list_filter = ["kind", "aggregation"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MetricValueInline]


@admin.register(UnitMetric)
class UnitMetricAdmin(admin.ModelAdmin):
    list_display = [
        "name", "display_unit", "scope", "business_metric", "consumed_unit", "cost_basis",
        "target_value", "currency",
    ]  # fmt: skip
    list_filter = ["cost_basis", "technology_category"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


class ScenarioAdjustmentInline(admin.TabularInline):
    model = ScenarioAdjustment
    extra = 0


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["name", "base_forecast", "created_by", "updated_at"]
    search_fields = ["name", "description"]
    inlines = [ScenarioAdjustmentInline]


class ForecastPointInline(admin.TabularInline):
    model = ForecastPoint
    extra = 0
    fields = ["month", "scope", "technology_category", "amount", "lower_amount",
              "upper_amount", "actual_amount"]  # fmt: skip


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = [
        "name", "kind", "method", "scope", "technology_category", "as_of_month", "start_month",
        "end_month", "mape_percent",
    ]  # fmt: skip
    list_filter = ["kind", "method", "technology_category"]
    search_fields = ["name", "notes"]
    inlines = [ForecastPointInline]


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = [
        "name", "category", "provider_name", "status", "start_date", "end_date",
        "total_amount", "consumed_amount", "currency", "utilisation_percent", "notice_date",
        "renewal_date", "owner",
    ]  # fmt: skip
    list_filter = ["category", "status", "technology_category", "auto_renews", "currency"]
    search_fields = ["name", "provider_name", "contract_id", "contract_commitment_id", "notes"]
    date_hierarchy = "end_date"
    autocomplete_fields = ["owner", "scope"]


class InitiativeStageChangeInline(admin.TabularInline):
    model = InitiativeStageChange
    extra = 0
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "note"]


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = [
        "name", "stage", "is_ai", "priority", "owner", "budget_amount",
        "expected_annual_value", "currency", "rank",
    ]  # fmt: skip
    list_filter = ["stage", "is_ai", "priority"]
    search_fields = ["name", "slug", "description", "business_case"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["scopes", "technology_categories"]
    autocomplete_fields = ["owner", "sponsor", "priority"]
    inlines = [InitiativeStageChangeInline]
