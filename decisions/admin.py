"""Admin for forums, decisions and options, decision rights, guardrails, breaches and actions."""

from django.contrib import admin

from decisions.models import Action, Breach, Decision, DecisionRight, Forum, Guardrail, Option


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["name", "cadence", "chair", "next_meeting_on", "is_active"]
    list_filter = ["cadence", "is_active"]
    search_fields = ["name", "purpose"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    autocomplete_fields = ["chair"]


class OptionInline(admin.StackedInline):
    model = Option
    extra = 0
    fields = [
        ("title", "is_chosen"),
        "description",
        ("currency", "cost_one_off", "run_rate_monthly", "tco_amount", "tco_years"),
        ("risk", "delivery_weeks", "quality_score"),
        ("unit_cost", "unit_cost_label"),
        "expected_outcome",
        "risk_notes",
    ]


class ActionInline(admin.TabularInline):
    model = Action
    extra = 0
    fields = ["title", "owner", "due_on", "status", "completed_on"]
    autocomplete_fields = ["owner"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = [
        "title", "kind", "status", "forum", "decider", "due_on", "decided_on", "scope",
        "unit_metric",
    ]  # fmt: skip
    list_filter = ["status", "kind", "forum", "scope"]
    search_fields = ["title", "question", "rationale"]
    date_hierarchy = "due_on"
    autocomplete_fields = ["decider", "requested_by", "scope", "priority"]
    inlines = [OptionInline, ActionInline]


@admin.register(DecisionRight)
class DecisionRightAdmin(admin.ModelAdmin):
    list_display = [
        "change_kind", "persona", "user", "amount_limit", "currency", "scope",
        "technology_category",
    ]  # fmt: skip
    list_filter = ["change_kind", "persona", "scope"]
    search_fields = ["description", "user__username"]


@admin.register(Guardrail)
class GuardrailAdmin(admin.ModelAdmin):
    list_display = [
        "name", "kind", "threshold", "currency", "period", "scope", "technology_category",
        "owner", "check_schedule", "is_active", "last_checked_at",
    ]  # fmt: skip
    list_filter = ["kind", "period", "check_schedule", "is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["owner", "scope"]


@admin.register(Breach)
class BreachAdmin(admin.ModelAdmin):
    list_display = [
        "guardrail", "period_start", "observed_value", "threshold", "currency", "owner",
        "status", "detected_at", "resolved_at",
    ]  # fmt: skip
    list_filter = ["status", "guardrail__kind"]
    search_fields = ["guardrail__name", "note"]
    date_hierarchy = "detected_at"


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "due_on", "status", "completed_on", "decision", "scope"]
    list_filter = ["status", "scope"]
    search_fields = ["title", "description"]
    date_hierarchy = "due_on"
    autocomplete_fields = ["owner", "decision", "scope"]
