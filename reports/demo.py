"""The demo organisation: people, priorities, scopes, a year of spend and its governance.

``demo_organisation_load`` builds a realistic organisation in an empty database and refreshes it
in one that already has it: every object is found by its natural key (username, slug, name,
title) and updated, never created twice. Spend is generated with the synthetic FOCUS generator
and loaded through the normal ingest, once; later runs keep it unless asked to refresh it.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from decisions.models import (
    Action,
    Breach,
    ChangeKind,
    Decision,
    DecisionKind,
    DecisionRight,
    Forum,
    Guardrail,
    Option,
)
from finops_exec.exact import ExactSum
from finops_exec.personas import EXECUTIVE, FINANCE, PRACTITIONER, persona_groups_ensure
from portfolio.focus_generator import focus_file_generate, month_add
from portfolio.models import (
    AllocationRule,
    AllocationTarget,
    BusinessMetric,
    Commitment,
    CostCenter,
    Delivery,
    Initiative,
    InitiativeStageChange,
    MetricValue,
    UnitMetric,
)
from portfolio.selectors import spend_current, spend_for_scope
from portfolio.services.ingest import delivery_create, delivery_ingest
from reports.models import STANDARD_KPIS, KpiDefinition, MaturityAssessment
from scopes.categorization import technology_categories_ensure_defaults
from scopes.models import Scope, StrategicPriority, TechnologyCategory
from scopes.services import scope_create, scope_update

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "finops-demo"
DEMO_ROWS = 30_000
DEMO_SEED = 2026
DEMO_MONTHS = 13
USD = "USD"

# username: (first name, last name, persona group or None, superuser)
PEOPLE: dict[str, tuple[str, str, str | None, bool]] = {
    "executive": ("Erin", "Walsh", EXECUTIVE, False),
    "practitioner": ("Pat", "Rivera", PRACTITIONER, False),
    "finance": ("Frank", "Osei", FINANCE, False),
    "admin": ("Ada", "Admin", None, True),
    "cto": ("Dana", "Kim", EXECUTIVE, False),
    "head.ai": ("Sam", "Patel", None, False),
    "eng.platform": ("Lee", "Novak", None, False),
    "procurement": ("Ana", "Costa", None, False),
}
LOGIN_USERS = ("executive", "practitioner", "finance", "admin")


@dataclass
class DemoSummary:
    """What the demo holds after a load, for the command to print."""

    users: int
    priorities: int
    scopes: int
    spend_rows: int
    spend_months: int
    delivery_status: str
    spend_loaded_now: bool
    decisions: int
    commitments: int


def demo_organisation_load(
    *, rows: int = DEMO_ROWS, refresh_spend: bool = False, today: datetime.date | None = None
) -> DemoSummary:
    """Create or refresh the demo organisation; returns what it holds.

    Spend is generated and ingested only when no demo delivery was loaded before, or when
    ``refresh_spend`` is set (the new delivery then supersedes the older billing periods).
    """
    today = today or timezone.now().date()
    with transaction.atomic():
        people = _people_ensure()
        categories = technology_categories_ensure_defaults()
        priorities = _priorities_ensure(people)
        scopes = _scopes_ensure(people, priorities)

    delivery, loaded_now = _spend_ensure(rows=rows, refresh=refresh_spend, today=today)

    with transaction.atomic():
        metrics = _metrics_ensure(people, scopes, priorities, today)
        units = _unit_metrics_ensure(people, scopes, categories, metrics)
        _allocation_ensure(people, scopes, categories, today)
        _commitments_ensure(people, scopes, categories, today)
        initiatives = _initiatives_ensure(people, scopes, priorities, categories, today)
        forums = _forums_ensure(people, today)
        decisions = _decisions_ensure(people, scopes, priorities, initiatives, units, forums, today)
        _rights_ensure(people, scopes, categories)
        _guardrails_ensure(people, scopes, categories, units, decisions, today)
        _actions_ensure(people, scopes, decisions, today)
        _kpis_and_maturity_ensure(people, scopes, today)

    months = spend_current().dates("charge_month", "month")
    summary = DemoSummary(
        users=len(people),
        priorities=len(priorities),
        scopes=len(scopes),
        spend_rows=spend_current().aggregate(rows=Sum("row_count"))["rows"] or 0,
        spend_months=len(months),
        delivery_status=delivery.status if delivery else "none",
        spend_loaded_now=loaded_now,
        decisions=Decision.objects.count(),
        commitments=Commitment.objects.count(),
    )
    logger.info("demo: loaded %s", summary)
    return summary


# People, priorities and scopes -------------------------------------------------------------


def _people_ensure() -> dict[str, Any]:
    groups = persona_groups_ensure()
    user_model = get_user_model()
    people = {}
    for username, (first, last, persona, superuser) in PEOPLE.items():
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "is_staff": superuser or persona == PRACTITIONER,
                "is_superuser": superuser,
            },
        )
        if created:
            if username in LOGIN_USERS:
                user.set_password(DEMO_PASSWORD)
            else:
                user.set_unusable_password()
            user.save()
        if persona:
            user.groups.add(groups[persona])
        people[username] = user
    return people


PRIORITIES = (
    ("ai-assistant-launch", "AI assistant launch", 1, "executive",
     "Launch the customer AI assistant to all markets.",
     "Assistant resolves 40% of support contacts at under 5 cents per conversation."),
    ("commerce-cost-to-serve", "Commerce cost to serve", 2, "cto",
     "Bring the cost per checkout down while volumes grow.",
     "Cost per checkout transaction below 3 cents by year end."),
    ("data-platform-modernization", "Data platform modernization", 3, "cto",
     "Move analytics to the lakehouse and retire the legacy warehouse.",
     "Legacy warehouse retired; analytics run cost flat while data doubles."),
    ("data-center-exit", "Data center exit", 4, "executive",
     "Leave the Ashburn and Frankfurt colocation sites by the end of next year.",
     "No colocation spend after the exit; no overlap beyond six months."),
    ("workplace-productivity", "Workplace productivity", 5, "executive",
     "Rationalise collaboration and business SaaS.",
     "One tool per job; licence utilisation above 90%."),
)  # fmt: skip


def _priorities_ensure(people: dict[str, Any]) -> dict[str, StrategicPriority]:
    found = {}
    for slug, name, rank, sponsor, description, outcome in PRIORITIES:
        found[slug], _ = StrategicPriority.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name, "rank": rank, "sponsor": people[sponsor],
                "description": description, "target_outcome": outcome,
                "status": StrategicPriority.Status.ACTIVE,
            },
        )  # fmt: skip
    return found


def _tag(key: str, value: str) -> dict[str, str]:
    return {"dimension": "tag", "operator": "equals", "tag_key": key, "value": value}


def _category(slug: str) -> dict[str, str]:
    return {"dimension": "technology_category", "operator": "equals", "value": slug}


# slug: (name, priority, sponsor, owner, cadence, maturity, description, rules)
SCOPES: dict[str, tuple[str, str, str, str, str, str, str, list[dict[str, str]]]] = {
    "ai-assistant": (
        "AI Assistant", "ai-assistant-launch", "executive", "head.ai", "weekly", "walk",
        "Everything the customer assistant runs on: models, GPUs, cloud and its SaaS seats.",
        [_tag("product", "assistant")],
    ),
    "semantic-search": (
        "Semantic Search", "ai-assistant-launch", "cto", "head.ai", "monthly", "crawl",
        "Embeddings, vector search and the models behind catalogue search.",
        [_tag("product", "semantic-search")],
    ),
    "commerce-platform": (
        "Commerce Platform", "commerce-cost-to-serve", "cto", "eng.platform", "monthly", "walk",
        "Storefront and checkout across clouds, databases and licences.",
        [_tag("product", "checkout"), _tag("product", "storefront")],
    ),
    "data-platform": (
        "Data Platform", "data-platform-modernization", "cto", "practitioner", "monthly",
        "walk", "Analytics, warehouses and storage owned by the data platform team.",
        [_tag("team", "data-platform")],
    ),
    "data-center-estate": (
        "Data Center Estate", "data-center-exit", "executive", "eng.platform", "quarterly",
        "crawl", "Colocation, power, cross connects and depreciating hardware.",
        [_category("data-center")],
    ),
    "enterprise-software": (
        "Enterprise Software", "workplace-productivity", "executive", "procurement",
        "quarterly", "crawl", "SaaS subscriptions and licensed software across the company.",
        [_category("saas"), _category("licensing")],
    ),
    "shared-cloud-platform": (
        "Shared Cloud Platform", "commerce-cost-to-serve", "cto", "eng.platform", "monthly",
        "run", "Shared clusters, networking and commitments run by the platform team.",
        [_tag("team", "platform"), _category("public-cloud")],
    ),
}  # fmt: skip


def _scopes_ensure(
    people: dict[str, Any], priorities: dict[str, StrategicPriority]
) -> dict[str, Scope]:
    technology_categories_ensure_defaults()
    found = {}
    for slug, (name, priority, sponsor, owner, cadence, maturity, text, rules) in SCOPES.items():
        fields = {
            "name": name, "priority": priorities[priority], "sponsor": people[sponsor],
            "owner": people[owner], "review_cadence": cadence, "maturity": maturity,
            "description": text, "is_active": True,
        }  # fmt: skip
        existing = Scope.objects.filter(slug=slug).first()
        if existing is None:
            found[slug] = scope_create(slug=slug, rules=rules, **fields)
        else:
            found[slug] = scope_update(scope=existing, rules=rules, **fields)
    return found


# Spend ----------------------------------------------------------------------------------------


def _spend_ensure(
    *, rows: int, refresh: bool, today: datetime.date
) -> tuple[Delivery | None, bool]:
    """Generate and ingest the demo's spend unless a demo delivery is already loaded."""
    loaded = Delivery.objects.filter(
        source=Delivery.Source.DEMO, status=Delivery.Status.LOADED
    ).first()
    if loaded is not None and not refresh:
        return loaded, False
    with tempfile.TemporaryDirectory(prefix="finops-demo-") as folder:
        path = Path(folder) / "demo-focus-1.2.csv"
        focus_file_generate(rows=rows, path=path, seed=DEMO_SEED, months=DEMO_MONTHS, today=today)
        delivery = delivery_create(paths=[path], source=Delivery.Source.DEMO)
        delivery = delivery_ingest(delivery=delivery)
    if delivery.status != Delivery.Status.LOADED:
        raise RuntimeError(
            f"The demo spend did not load ({delivery.status}): {delivery.error_message or ''}"
            f"{delivery.errors[:3]}"
        )
    return delivery, True


def _months(today: datetime.date) -> list[datetime.date]:
    """The demo's months, oldest first, ending with the current one."""
    current = today.replace(day=1)
    return [month_add(current, offset) for offset in range(-(DEMO_MONTHS - 1), 1)]


# Business metrics and unit metrics -----------------------------------------------------------

# slug: (name, kind, unit, aggregation, scope, first value, growth per month, ramp)
METRICS = {
    "active-users": ("Active customers", "demand", "users", "last", None, 410_000, "0.02", False),
    "checkout-transactions": (
        "Checkout transactions", "demand", "transactions", "sum", "commerce-platform",
        2_100_000, "0.025", False,
    ),
    "assistant-conversations": (
        "Assistant conversations", "demand", "conversations", "sum", "ai-assistant", 1_200_000,
        "0", True,
    ),
    "revenue": ("Revenue", "financial", "USD", "sum", None, 38_000_000, "0.015", False),
    "deployments": ("Production deployments", "engineering", "deployments", "sum", None,
                    1_800, "0.01", False),
}  # fmt: skip


def _metrics_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], priorities: dict[str, StrategicPriority],
    today: datetime.date,
) -> dict[str, BusinessMetric]:  # fmt: skip
    found = {}
    months = _months(today)
    for slug, (name, kind, unit, aggregation, scope, first, growth, ramp) in METRICS.items():
        metric, _ = BusinessMetric.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name, "kind": kind, "unit": unit, "aggregation": aggregation,
                "currency": USD if kind == "financial" else "",
                "scope": scopes.get(scope) if scope else None,
                "priority": priorities["ai-assistant-launch"] if ramp else None,
                "owner": people["finance" if kind == "financial" else "practitioner"],
            },
        )  # fmt: skip
        for index, month in enumerate(months):
            value = _metric_value(first, Decimal(growth), ramp, index, len(months))
            if month == months[-1] and aggregation == "sum":
                # The current month is still running: its sum so far.
                days = (month_add(month, 1) - month).days
                value = value * today.day // days
            MetricValue.objects.update_or_create(
                metric=metric, period_start=month, period_end=month_add(month, 1),
                defaults={"value": value, "source": "Demo data"},
            )  # fmt: skip
        found[slug] = metric
    return found


def _metric_value(first: int, growth: Decimal, ramp: bool, index: int, count: int) -> int:
    if ramp:
        # The assistant launched in the first months of the year shown and ramped up fast.
        share = Decimal(index + 1) / Decimal(count)
        return int(first * share * share)
    return int(first * (1 + growth) ** index)


def _unit_metrics_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], categories: dict[str, TechnologyCategory],
    metrics: dict[str, BusinessMetric],
) -> dict[str, UnitMetric]:  # fmt: skip
    specs = {
        "cost-per-1m-tokens": dict(
            name="Cost per 1M tokens", technology_category=categories["ai"],
            consumed_unit="Tokens", denominator_scale=Decimal(1_000_000),
            display_unit="per 1M tokens", target_value=Decimal("5.00"),
            description="AI spend on token-priced models divided by the tokens consumed.",
        ),
        "cost-per-conversation": dict(
            name="Cost per assistant conversation", scope=scopes["ai-assistant"],
            business_metric=metrics["assistant-conversations"],
            display_unit="per conversation", target_value=Decimal("0.05"),
        ),
        "cost-per-checkout": dict(
            name="Cost per checkout transaction", scope=scopes["commerce-platform"],
            business_metric=metrics["checkout-transactions"],
            display_unit="per transaction", target_value=Decimal("0.03"),
        ),
        "cost-per-active-user": dict(
            name="Cost to serve per active customer", business_metric=metrics["active-users"],
            display_unit="per active customer", target_value=Decimal("4.50"),
        ),
    }  # fmt: skip
    found = {}
    for slug, fields in specs.items():
        fields.setdefault("owner", people["practitioner"])
        found[slug], _ = UnitMetric.objects.update_or_create(slug=slug, defaults=fields)
    return found


# Allocation, commitments and initiatives -----------------------------------------------------

COST_CENTERS = (
    ("cc-1000", "Platform engineering", "eng.platform"),
    ("cc-1100", "Corporate IT", "cto"),
    ("cc-1200", "Engineering productivity", "cto"),
    ("cc-2100", "Payments", "eng.platform"),
    ("cc-2200", "Web storefront", "eng.platform"),
    ("cc-3100", "Data platform", "practitioner"),
    ("cc-4100", "AI assistant", "head.ai"),
    ("cc-4200", "Search", "head.ai"),
    ("cc-5100", "Sales operations", "finance"),
)


def _allocation_ensure(
    people: dict[str, Any], scopes: dict[str, Scope],
    categories: dict[str, TechnologyCategory], today: datetime.date,
) -> None:  # fmt: skip
    centers = {}
    for code, name, owner in COST_CENTERS:
        centers[code], _ = CostCenter.objects.update_or_create(
            code=code, defaults={"name": name, "owner": people[owner]}
        )
    start = _months(today)[0]
    shared, _ = AllocationRule.objects.update_or_create(
        name="Shared cloud platform to product scopes",
        defaults={
            "description": "Clusters, networking and commitment fees follow product spend.",
            "source_scope": scopes["shared-cloud-platform"], "method": "proportional",
            "target_kind": "scope", "valid_from": start, "owner": people["practitioner"],
        },
    )  # fmt: skip
    for slug in ("ai-assistant", "semantic-search", "commerce-platform", "data-platform"):
        AllocationTarget.objects.update_or_create(rule=shared, scope=scopes[slug])
    untagged, _ = AllocationRule.objects.update_or_create(
        name="Untagged public cloud to cost centers",
        defaults={
            "description": "Agreed split of untagged cloud spend while tagging is fixed; "
            "the remaining 20% stays visible as unallocated.",
            "technology_category": categories["public-cloud"], "method": "fixed",
            "target_kind": "cost_center", "valid_from": start, "owner": people["finance"],
        },
    )  # fmt: skip
    for code, share in (("cc-2100", "30"), ("cc-2200", "30"), ("cc-3100", "20")):
        AllocationTarget.objects.update_or_create(
            rule=untagged, cost_center=centers[code], defaults={"percentage": Decimal(share)}
        )


def _provider_spend(provider: str, since: datetime.date) -> Decimal:
    total = (
        spend_current()
        .filter(provider_name=provider, charge_month__gte=since)
        .aggregate(total=ExactSum("effective_cost"))["total"]
    )
    return (total or Decimal(0)).quantize(Decimal("0.01"))


def _commitments_ensure(
    people: dict[str, Any], scopes: dict[str, Scope],
    categories: dict[str, TechnologyCategory], today: datetime.date,
) -> None:  # fmt: skip
    day = datetime.timedelta(days=1)
    month = today.replace(day=1)
    openai_start = month_add(month, -7)
    specs = {
        "AWS Compute Savings Plan (3 years)": dict(
            category="savings_plan", provider_name="AWS",
            technology_category=categories["public-cloud"],
            scope=scopes["shared-cloud-platform"], owner=people["practitioner"],
            commitment_discount_id="arn:aws:savingsplans::123456789012:savingsplan/sp-0e1f2a3b4c",
            contract_id="AWS-EDP-2024", contract_commitment_id="sp-0e1f2a3b4c",
            start_date=month_add(month, -20), end_date=month_add(month, 16), payment="monthly",
            total_amount=Decimal("7920000.00"), consumed_amount=Decimal("4400000.00"),
            utilisation_percent=Decimal("99.00"), quantity=Decimal("300.00"),
            quantity_unit="USD per hour", renewal_date=month_add(month, 16),
            notice_date=month_add(month, 13),
        ),
        "Salesforce Sales and Service Cloud": dict(
            category="saas_subscription", provider_name="Salesforce",
            technology_category=categories["saas"], scope=scopes["enterprise-software"],
            owner=people["procurement"], contract_id="SFDC-Q-88213",
            start_date=today + 60 * day - 730 * day, end_date=today + 60 * day, payment="annual",
            total_amount=Decimal("2280000.00"), consumed_amount=Decimal("2090000.00"),
            utilisation_percent=Decimal("83.50"), quantity=Decimal("640"), quantity_unit="users",
            renewal_date=today + 60 * day, notice_date=today + 30 * day, auto_renews=True,
            notes="Renewal within 90 days; 17% of seats unused in the last quarter.",
        ),
        "OpenAI enterprise commitment": dict(
            category="ai_platform", provider_name="OpenAI", technology_category=categories["ai"],
            scope=scopes["ai-assistant"], owner=people["head.ai"], contract_id="OAI-ENT-2291",
            contract_commitment_id="OAI-ENT-2291-C1", start_date=openai_start,
            end_date=month_add(openai_start, 12), payment="consumption",
            total_amount=Decimal("1500000.00"),
            consumed_amount=_provider_spend("OpenAI", openai_start),
            renewal_date=month_add(openai_start, 12), notice_date=month_add(openai_start, 10),
            notes="Minimum spend commitment with a 12% discount on list token prices.",
        ),
        "Ashburn server refresh": dict(
            category="dc_refresh", status="planned", provider_name="Dell Technologies",
            technology_category=categories["data-center"], scope=scopes["data-center-estate"],
            owner=people["eng.platform"], start_date=month_add(month, 4),
            end_date=month_add(month, 64), payment="upfront", total_amount=Decimal("3400000.00"),
            quantity=Decimal("220"), quantity_unit="servers",
            notes="Proposed five-year refresh; overlaps the data center exit plan.",
        ),
        "Oracle Database Enterprise Edition support": dict(
            category="licence", provider_name="Oracle Licensing",
            technology_category=categories["licensing"], scope=scopes["enterprise-software"],
            owner=people["procurement"], contract_id="CSI-20458813",
            start_date=month_add(month, -7), end_date=month_add(month, 5), payment="annual",
            total_amount=Decimal("1080000.00"), consumed_amount=Decimal("630000.00"),
            quantity=Decimal("96"), quantity_unit="processor licences",
            renewal_date=month_add(month, 5), notice_date=month_add(month, 2),
        ),
        "Equinix colocation (Ashburn and Frankfurt)": dict(
            category="other", provider_name="Equinix",
            technology_category=categories["data-center"], scope=scopes["data-center-estate"],
            owner=people["eng.platform"], contract_id="EQX-MSA-100482",
            start_date=month_add(month, -30), end_date=month_add(month, 18), payment="monthly",
            total_amount=Decimal("5760000.00"), consumed_amount=Decimal("3600000.00"),
            renewal_date=month_add(month, 18), notice_date=month_add(month, 12),
        ),
    }  # fmt: skip
    for name, fields in specs.items():
        Commitment.objects.update_or_create(name=name, defaults=fields)


# slug: (name, stage path, is_ai, priority, scopes, owner, budget, value, tco, started months ago)
INITIATIVES = {
    "customer-ai-assistant": (
        "Customer AI assistant", ["idea", "poc", "pilot", "production"], True,
        "ai-assistant-launch", ["ai-assistant"], "head.ai", "2400000", "6000000", "7200000", 14,
    ),
    "semantic-catalogue-search": (
        "Semantic catalogue search", ["idea", "poc", "pilot"], True, "ai-assistant-launch",
        ["semantic-search"], "head.ai", "900000", "2500000", "2600000", 9,
    ),
    "developer-copilots": (
        "Developer copilots", ["idea", "poc", "pilot", "production", "scaled"], True,
        "workplace-productivity", [], "cto", "600000", "1800000", "1500000", 12,
    ),
    "invoice-extraction-llm": (
        "Invoice extraction with LLMs", ["idea", "poc", "stalled"], True,
        "commerce-cost-to-serve", [], "finance", "250000", "400000", "700000", 10,
    ),
    "voice-ordering-bot": (
        "Voice ordering bot", ["idea", "poc", "retired"], True, "commerce-cost-to-serve", [],
        "eng.platform", "150000", "300000", "900000", 11,
    ),
    "lakehouse-migration": (
        "Lakehouse migration", ["idea", "pilot", "production"], False,
        "data-platform-modernization", ["data-platform"], "practitioner", "1800000", "1200000",
        "5400000", 13,
    ),
    "data-center-exit-wave-2": (
        "Data center exit, wave 2", ["idea", "pilot"], False, "data-center-exit",
        ["data-center-estate", "shared-cloud-platform"], "eng.platform", "3000000", "2200000",
        "9000000", 6,
    ),
}  # fmt: skip


def _initiatives_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], priorities: dict[str, StrategicPriority],
    categories: dict[str, TechnologyCategory], today: datetime.date,
) -> dict[str, Initiative]:  # fmt: skip
    found = {}
    start_of_day = timezone.make_aware(datetime.datetime.combine(today, datetime.time(9)))
    for rank, (slug, spec) in enumerate(INITIATIVES.items(), start=1):
        name, path, is_ai, priority, scope_slugs, owner, budget, value, tco, months_ago = spec
        started = month_add(today.replace(day=1), -months_ago)
        initiative, _ = Initiative.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name, "stage": path[-1], "is_ai": is_ai, "rank": rank,
                "priority": priorities[priority], "owner": people[owner],
                "sponsor": priorities[priority].sponsor, "budget_amount": Decimal(budget),
                "expected_annual_value": Decimal(value), "tco_amount": Decimal(tco),
                "business_case": f"{name}: expected value {value} USD a year against a "
                f"three-year TCO of {tco} USD.", "started_on": started,
                "target_on": month_add(started, 12),
            },
        )  # fmt: skip
        initiative.scopes.set([scopes[s] for s in scope_slugs])
        initiative.technology_categories.set(
            [categories["ai"]] if is_ai else [categories["public-cloud"]]
        )
        changed_at = None
        for step, (before, after) in enumerate(zip(["", *path], path, strict=False)):
            days_ago = months_ago * 30 * (len(path) - step) // len(path)
            changed_at = start_of_day - datetime.timedelta(days=days_ago)
            InitiativeStageChange.objects.update_or_create(
                initiative=initiative, to_stage=after,
                defaults={"from_stage": before, "changed_at": changed_at,
                          "changed_by": people["practitioner"]},
            )  # fmt: skip
        Initiative.objects.filter(pk=initiative.pk).update(stage_changed_at=changed_at)
        found[slug] = initiative
    return found


# Governance ------------------------------------------------------------------------------------


def _forums_ensure(people: dict[str, Any], today: datetime.date) -> dict[str, Forum]:
    specs = {
        "technology-investment-board": (
            "Technology Investment Board", "monthly", "executive",
            ["executive", "cto", "practitioner", "finance", "procurement"],
            "Approves investments, commitments and vendor changes above team limits.",
        ),
        "ai-council": (
            "AI Council", "fortnightly", "head.ai", ["head.ai", "cto", "practitioner", "finance"],
            "Moves AI initiatives between stages and chooses models and vendors.",
        ),
    }  # fmt: skip
    found = {}
    for slug, (name, cadence, chair, members, purpose) in specs.items():
        forum, _ = Forum.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name, "cadence": cadence, "chair": people[chair], "purpose": purpose,
                "next_meeting_on": today + datetime.timedelta(days=9),
            },
        )  # fmt: skip
        forum.members.set([people[m] for m in members])
        found[slug] = forum
    return found


def _option(
    title: str, one_off: str, monthly: str, tco: str, risk: str, weeks: int, quality: int,
    outcome: str, unit_cost: str | None = None, label: str = "", chosen: bool = False,
) -> dict[str, Any]:  # fmt: skip
    return {
        "title": title, "cost_one_off": Decimal(one_off), "run_rate_monthly": Decimal(monthly),
        "tco_amount": Decimal(tco), "tco_years": 3, "risk": risk, "delivery_weeks": weeks,
        "quality_score": quality, "expected_outcome": outcome,
        "unit_cost": Decimal(unit_cost) if unit_cost else None, "unit_cost_label": label,
        "is_chosen": chosen, "currency": USD,
    }  # fmt: skip


def _decisions_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], priorities: dict[str, StrategicPriority],
    initiatives: dict[str, Initiative], units: dict[str, UnitMetric],
    forums: dict[str, Forum], today: datetime.date,
) -> dict[str, Decision]:  # fmt: skip
    days = datetime.timedelta(days=1)
    specs = {
        "llm-provider": dict(
            title="Choose the model provider for the customer assistant", kind=DecisionKind.VENDOR,
            status=Decision.Status.DECIDED, forum=forums["ai-council"], decider=people["cto"],
            due_on=today - 100 * days, decided_on=today - 95 * days, scope=scopes["ai-assistant"],
            priority=priorities["ai-assistant-launch"],
            initiative=initiatives["customer-ai-assistant"],
            unit_metric=units["cost-per-conversation"],
            question="Which model provider serves the assistant in production?",
            rationale="GPT-4o met the quality bar at the lowest cost per conversation; Claude "
            "stays as a fallback for long documents.",
            options=[
                _option("OpenAI GPT-4o", "40000", "65000", "2380000", "medium", 6, 4,
                        "Meets quality targets at launch.", "0.041", "per conversation", True),
                _option("Anthropic Claude Sonnet", "40000", "78000", "2848000", "medium", 6, 5,
                        "Best answers on long documents.", "0.049", "per conversation"),
                _option("Self-hosted open model on GPUs", "350000", "52000", "2222000", "high",
                        20, 3, "Control over data; needs an ML platform team.", "0.038",
                        "per conversation"),
            ],
        ),
        "salesforce-renewal": dict(
            title="Renew Salesforce for two years or consolidate CRM",
            kind=DecisionKind.COMMITMENT, status=Decision.Status.IN_REVIEW,
            forum=forums["technology-investment-board"], decider=people["executive"],
            due_on=today + 21 * days, scope=scopes["enterprise-software"],
            priority=priorities["workplace-productivity"],
            question="The Salesforce contract renews in 60 days; 17% of seats are unused.",
            options=[
                _option("Renew as is for two years", "0", "95000", "3420000", "low", 0, 4,
                        "No disruption; unused seats keep costing."),
                _option("Renew with 110 fewer seats", "0", "79000", "2844000", "low", 2, 4,
                        "Saves 576,000 USD over three years.", "123.44", "per user month"),
                _option("Consolidate on Dynamics 365", "600000", "61000", "2796000", "high",
                        40, 3, "Lower run rate; a year of migration risk."),
            ],
        ),
        "server-refresh": dict(
            title="Refresh the Ashburn servers or migrate the workloads to AWS",
            kind=DecisionKind.ARCHITECTURE, status=Decision.Status.PROPOSED,
            forum=forums["technology-investment-board"], decider=people["cto"],
            due_on=today + 45 * days, scope=scopes["data-center-estate"],
            priority=priorities["data-center-exit"],
            initiative=initiatives["data-center-exit-wave-2"],
            question="The hardware reaches end of support next year; a refresh would outlast "
            "the exit plan.",
            options=[
                _option("Refresh on premises", "3400000", "38000", "4768000", "low", 16, 4,
                        "Predictable cost; locks in the site for five years."),
                _option("Migrate to AWS with a Savings Plan", "900000", "61000", "3096000",
                        "medium", 36, 4, "Exit on plan; overlap costs for six months."),
                _option("Hybrid: refresh a third, migrate the rest", "1700000", "52000",
                        "3572000", "medium", 30, 3, "Hedges the migration risk."),
            ],
        ),
        "savings-plan-increase": dict(
            title="Raise the AWS Savings Plan commitment by 60 USD an hour",
            kind=DecisionKind.COMMITMENT, status=Decision.Status.PROPOSED,
            forum=forums["technology-investment-board"], decider=people["finance"],
            due_on=today - 12 * days, scope=scopes["shared-cloud-platform"],
            priority=priorities["commerce-cost-to-serve"], unit_metric=units["cost-per-checkout"],
            question="On-demand compute above the commitment grew for six months.",
            options=[
                _option("Commit 60 USD an hour more for 3 years", "0", "43800", "1576800", "medium",
                        1, 4, "Saves about 28% on covered compute.", "0.027", "per transaction"),
                _option("Stay on demand", "0", "60800", "2188800", "low", 0, 4,
                        "Keeps flexibility for the data center migration.", "0.031",
                        "per transaction"),
            ],
        ),
        "search-build-buy": dict(
            title="Build or buy the semantic search engine", kind=DecisionKind.BUILD_VS_BUY,
            status=Decision.Status.DEFERRED, forum=forums["ai-council"], decider=people["cto"],
            due_on=today + 75 * days, scope=scopes["semantic-search"],
            priority=priorities["ai-assistant-launch"],
            initiative=initiatives["semantic-catalogue-search"],
            unit_metric=units["cost-per-1m-tokens"],
            question="Deferred until the pilot reports relevance results.",
            options=[
                _option("Build on OpenSearch with our embeddings", "250000", "22000", "1042000",
                        "medium", 16, 4, "Full control of ranking.", "0.42", "per 1M tokens"),
                _option("Buy a hosted vector search service", "30000", "31000", "1146000", "low",
                        4, 4, "Fast to launch; vendor lock-in.", "0.55", "per 1M tokens"),
            ],
        ),
    }  # fmt: skip
    found = {}
    for key, fields in specs.items():
        options = fields.pop("options")
        fields.setdefault("requested_by", people["practitioner"])
        decision, _ = Decision.objects.update_or_create(title=fields["title"], defaults=fields)
        # Clear the choice first so that moving it never holds two chosen options at once.
        decision.options.update(is_chosen=False)
        for option in options:
            title = option.pop("title")
            Option.objects.update_or_create(decision=decision, title=title, defaults=option)
        found[key] = decision
    return found


def _rights_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], categories: dict[str, TechnologyCategory]
) -> None:
    specs = (
        (PRACTITIONER, None, ChangeKind.SPEND_CHANGE, "25000", None, None,
         "Practitioners approve spend changes up to 25,000 USD a month in any scope."),
        (FINANCE, None, ChangeKind.COMMITMENT, "250000", None, None,
         "Finance commits capacity or contracts up to 250,000 USD."),
        (EXECUTIVE, None, ChangeKind.INVESTMENT, "2000000", None, None,
         "Executives approve investments up to 2,000,000 USD."),
        (EXECUTIVE, None, ChangeKind.COMMITMENT, "5000000", None, None,
         "Executives approve commitments up to 5,000,000 USD."),
        ("", "head.ai", ChangeKind.SPEND_CHANGE, "100000", "ai-assistant", None,
         "The head of AI approves assistant spend changes up to 100,000 USD a month."),
        ("", "head.ai", ChangeKind.TRADEOFF, None, None, "ai",
         "The head of AI accepts cost and quality tradeoffs on AI models."),
        ("", "cto", ChangeKind.ARCHITECTURE, None, None, None,
         "The CTO decides architecture without limit."),
    )  # fmt: skip
    for persona, username, kind, limit, scope, category, description in specs:
        DecisionRight.objects.update_or_create(
            persona=persona, user=people[username] if username else None, change_kind=kind,
            scope=scopes[scope] if scope else None,
            technology_category=categories[category] if category else None,
            defaults={"amount_limit": Decimal(limit) if limit else None, "currency": USD,
                      "description": description},
        )  # fmt: skip


def _scope_month_cost(scope: Scope, month: datetime.date) -> Decimal:
    total = (
        spend_for_scope(scope=scope)
        .filter(charge_month=month, billing_currency=USD)
        .aggregate(total=ExactSum("effective_cost"))["total"]
    )
    return (total or Decimal(0)).quantize(Decimal("0.01"))


def _guardrails_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], categories: dict[str, TechnologyCategory],
    units: dict[str, UnitMetric], decisions: dict[str, Decision], today: datetime.date,
) -> None:  # fmt: skip
    last_month = month_add(today.replace(day=1), -1)
    observed = _scope_month_cost(scopes["ai-assistant"], last_month)
    # A budget set below what the assistant spent last month: the demo's open breach.
    budget = max(observed * 85 // 100 // 1000 * 1000, Decimal(1000))
    specs = {
        "AI Assistant monthly budget": dict(
            kind="budget", threshold=budget, currency=USD, scope=scopes["ai-assistant"],
            owner=people["head.ai"], check_schedule="daily",
            decision=decisions["llm-provider"],
        ),
        "AI spend limit": dict(
            kind="spend_limit", threshold=Decimal("600000"), currency=USD,
            technology_category=categories["ai"], owner=people["executive"],
        ),
        "Cost per 1M tokens ceiling": dict(
            kind="unit_cost_ceiling", threshold=Decimal("6.00"), currency=USD,
            unit_metric=units["cost-per-1m-tokens"], technology_category=categories["ai"],
            owner=people["head.ai"], decision=decisions["search-build-buy"],
        ),
        "Compute commitment coverage floor": dict(
            kind="commitment_coverage_floor", threshold=Decimal("70"),
            technology_category=categories["public-cloud"], owner=people["practitioner"],
            check_schedule="weekly", decision=decisions["savings-plan-increase"],
        ),
        "OpenAI monthly token quota": dict(
            kind="quota", threshold=Decimal("40000000000"), quota_unit="Tokens",
            scope=scopes["ai-assistant"], owner=people["head.ai"],
        ),
    }  # fmt: skip
    now = timezone.now()
    guardrails = {}
    for name, fields in specs.items():
        fields["last_checked_at"] = now
        guardrails[name], _ = Guardrail.objects.update_or_create(name=name, defaults=fields)

    detected = timezone.make_aware(
        datetime.datetime.combine(today.replace(day=1), datetime.time(6))
    )
    Breach.objects.update_or_create(
        guardrail=guardrails["AI Assistant monthly budget"], period_start=last_month,
        defaults={
            "period_end": today.replace(day=1), "observed_value": observed, "threshold": budget,
            "currency": USD, "owner": people["head.ai"], "status": Breach.Status.OPEN,
            "detected_at": detected, "resolved_at": None,
            "note": "Token volume grew faster than conversations after the launch in new markets.",
        },
    )  # fmt: skip
    earlier = month_add(last_month, -3)
    Breach.objects.update_or_create(
        guardrail=guardrails["Compute commitment coverage floor"], period_start=earlier,
        defaults={
            "period_end": month_add(earlier, 1), "observed_value": Decimal("64.20"),
            "threshold": Decimal("70"), "owner": people["practitioner"],
            "status": Breach.Status.RESOLVED,
            "detected_at": timezone.make_aware(datetime.datetime.combine(
                month_add(earlier, 1), datetime.time(6))),
            "resolved_at": timezone.make_aware(datetime.datetime.combine(
                month_add(earlier, 1) + datetime.timedelta(days=20), datetime.time(12))),
            "note": "Covered by moving the Azure workloads under the savings plan.",
        },
    )  # fmt: skip


def _actions_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], decisions: dict[str, Decision],
    today: datetime.date,
) -> None:  # fmt: skip
    day = datetime.timedelta(days=1)
    breach = Breach.objects.filter(guardrail__name="AI Assistant monthly budget").first()
    specs = (
        ("Cap assistant context length at 8k tokens", "head.ai", -6, "open", None,
         "ai-assistant", None, True),
        ("Send the assistant cost per conversation to the AI Council", "practitioner", 5,
         "in_progress", None, "ai-assistant", "llm-provider", False),
        ("Negotiate the Salesforce seat reduction", "procurement", 14, "open", None,
         "enterprise-software", "salesforce-renewal", False),
        ("Tag the untagged data transfer with product owners", "eng.platform", -20, "open",
         None, "shared-cloud-platform", None, False),
        ("Publish the savings plan coverage forecast", "finance", -30, "done", -33,
         "shared-cloud-platform", "savings-plan-increase", False),
        ("Set up the Claude fallback route", "head.ai", -60, "done", -52, "ai-assistant",
         "llm-provider", False),
        ("Cost the hybrid refresh option in detail", "eng.platform", 20, "open", None,
         "data-center-estate", "server-refresh", False),
    )  # fmt: skip
    for title, owner, due, status, completed, scope, decision, for_breach in specs:
        Action.objects.update_or_create(
            title=title,
            defaults={
                "owner": people[owner], "due_on": today + due * day, "status": status,
                "completed_on": today + completed * day if completed is not None else None,
                "scope": scopes[scope], "decision": decisions[decision] if decision else None,
                "breach": breach if for_breach else None, "created_by": people["practitioner"],
            },
        )  # fmt: skip


def _kpis_and_maturity_ensure(
    people: dict[str, Any], scopes: dict[str, Scope], today: datetime.date
) -> None:
    for order, (code, name, level, unit, description) in enumerate(STANDARD_KPIS, start=1):
        KpiDefinition.objects.update_or_create(
            code=code,
            defaults={"name": name, "level": level, "unit": unit, "description": description,
                      "display_order": order * 10},
        )  # fmt: skip
    assessed = timezone.make_aware(
        datetime.datetime.combine(today.replace(day=1), datetime.time(9))
    )
    crawl = [
        f"crawl.{c}"
        for c in (
            "sponsor_identified",
            "initial_scope",
            "adhoc_initiative_link",
            "cloud_definitions_shared",
        )
    ]
    walk = [f"walk.{c}" for c in ("multi_category_scopes", "regular_cadence",
                                  "unit_metrics_improve")]  # fmt: skip
    for scope in scopes.values():
        criteria = crawl + (walk if scope.maturity in ("walk", "run") else [])
        MaturityAssessment.objects.update_or_create(
            scope=scope, assessed_at=assessed,
            defaults={"stage": scope.maturity, "criteria_met": criteria,
                      "assessed_by": people["practitioner"]},
        )  # fmt: skip
    MaturityAssessment.objects.update_or_create(
        scope=None, assessed_at=assessed,
        defaults={"stage": "walk", "criteria_met": crawl + walk,
                  "notes": "Scopes span categories; decision rights are documented for AI.",
                  "assessed_by": people["practitioner"]},
    )  # fmt: skip
