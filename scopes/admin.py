"""Admin for technology categories, strategic priorities and scopes with their rules."""

from django.contrib import admin

from scopes.models import (
    Scope,
    ScopeRule,
    StrategicPriority,
    TechnologyCategory,
    TechnologyCategoryRule,
)


class TechnologyCategoryRuleInline(admin.TabularInline):
    model = TechnologyCategoryRule
    extra = 0
    fields = ["priority", "dimension", "operator", "tag_key", "value"]


@admin.register(TechnologyCategory)
class TechnologyCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "display_order", "is_default"]
    list_filter = ["is_default"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TechnologyCategoryRuleInline]


@admin.register(StrategicPriority)
class StrategicPriorityAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "status", "sponsor", "starts_on", "ends_on"]
    list_filter = ["status"]
    search_fields = ["name", "description", "target_outcome"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["sponsor"]


class ScopeRuleInline(admin.TabularInline):
    model = ScopeRule
    extra = 0
    fields = ["dimension", "operator", "tag_key", "value"]


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    list_display = [
        "name", "priority", "sponsor", "owner", "review_cadence", "maturity", "is_active"
    ]  # fmt: skip
    list_filter = ["maturity", "review_cadence", "is_active", "priority"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["sponsor", "owner", "priority"]
    inlines = [ScopeRuleInline]
