"""Admin for KPI definitions and history, maturity assessments and generated briefs."""

from django.contrib import admin

from reports.models import Brief, KpiDefinition, KpiSnapshot, MaturityAssessment


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "unit", "target_value", "display_order", "is_active"]
    list_filter = ["level", "unit", "is_active"]
    search_fields = ["code", "name", "description"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(admin.ModelAdmin):
    list_display = [
        "kpi", "scope", "period_start", "value", "numerator", "denominator", "computed_at"
    ]  # fmt: skip
    list_filter = ["kpi", "scope"]
    date_hierarchy = "period_start"
    list_select_related = ["kpi", "scope"]


@admin.register(MaturityAssessment)
class MaturityAssessmentAdmin(admin.ModelAdmin):
    list_display = ["scope", "stage", "assessed_at", "assessed_by"]
    list_filter = ["stage", "scope"]
    search_fields = ["notes"]


@admin.register(Brief)
class BriefAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "scope", "period_start", "period_end", "created_by",
                    "created_at"]  # fmt: skip
    list_filter = ["kind"]
    search_fields = ["title"]
    date_hierarchy = "created_at"
