import pytest

from portfolio.models import DailySpend
from portfolio.rowstore import rows_table
from scopes.models import TechnologyCategory
from scopes.selectors import rules_mask, scope_filter, scopes_matching, unallocated_filter
from tests.factories import scope_with_rules_create, spend_row_create

pytestmark = pytest.mark.django_db

# Each factory row is its own daily sum; the sums keep no resource id, so the fixture maps
# each sum's primary key to the resource id of its one row.
_labels: dict[int, str] = {}


def _from_sums(condition) -> set[str]:
    keys = DailySpend.objects.filter(condition).values_list("pk", flat=True)
    return {_labels[pk] for pk in keys}


def _from_rows(scope) -> set[str]:
    """The same boundary evaluated over the stored rows (the path row summaries use)."""
    table = rows_table()
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}
    slugs = dict(TechnologyCategory.objects.values_list("pk", "slug"))
    mask = rules_mask(scope.rules.all(), columns=columns, category_slugs=slugs)
    return set(table.filter(mask).column("resource_id").to_pylist())


def _matching(scope) -> set[str]:
    from_sums = _from_sums(scope_filter(scope))
    # The SQL filter over the sums and the mask over the rows must draw the same boundary.
    assert _from_rows(scope) == from_sums
    return from_sums


def _unallocated() -> set[str]:
    return _from_sums(unallocated_filter())


@pytest.fixture
def rows(db):
    _labels.clear()
    made = {
        "vm-eu": spend_row_create(resource_id="vm-eu", provider_name="AWS", region_id="eu-west-1"),
        "vm-us": spend_row_create(resource_id="vm-us", provider_name="AWS", region_id="us-east-1"),
        "vm-none": spend_row_create(resource_id="vm-none", provider_name="Azure", region_id=None),
        "saas": spend_row_create(
            resource_id="saas", provider_name="Slack", category="saas", tags={"team": "payments"}
        ),
        "ai": spend_row_create(
            resource_id="ai",
            provider_name="OpenAI",
            service_name="GPT Tokens",
            category="ai",
            tags={"team": "Payments", "2024": "budget"},
        ),
    }
    _labels.update({row.pk: label for label, row in made.items()})
    return made


def test_rules_on_the_same_dimension_are_alternatives(rows):
    scope = scope_with_rules_create(
        "Clouds", ("provider_name", "equals", "AWS"), ("provider_name", "equals", "Azure")
    )

    assert _matching(scope) == {"vm-eu", "vm-us", "vm-none"}


def test_rules_on_different_dimensions_must_all_hold(rows):
    scope = scope_with_rules_create(
        "AWS Europe", ("provider_name", "equals", "AWS"), ("region_id", "starts_with", "eu-")
    )

    assert _matching(scope) == {"vm-eu"}


def test_not_equals_excludes_and_keeps_rows_where_the_column_is_empty(rows):
    scope = scope_with_rules_create(
        "Clouds outside US",
        ("technology_category", "equals", "public-cloud"),
        ("region_id", "not_equals", "us-east-1"),
    )

    assert _matching(scope) == {"vm-eu", "vm-none"}


def test_technology_category_rules_compare_the_category_slug(rows):
    scope = scope_with_rules_create("AI", ("technology_category", "equals", "ai"))

    assert _matching(scope) == {"ai"}


def test_tag_rules_compare_the_value_of_the_key_case_sensitively(rows):
    scope = scope_with_rules_create("Payments", ("tag", "equals", "payments", "team"))
    numeric_key = scope_with_rules_create("Budget", ("tag", "equals", "budget", "2024"))

    assert _matching(scope) == {"saas"}
    assert _matching(numeric_key) == {"ai"}


def test_tag_keys_are_separate_dimensions(rows):
    scope = scope_with_rules_create(
        "Payments budget",
        ("tag", "contains", "ayments", "team"),
        ("tag", "equals", "budget", "2024"),
    )

    assert _matching(scope) == {"ai"}


def test_starts_with_and_contains_are_case_sensitive_on_every_database(rows):
    starts = scope_with_rules_create("GPT", ("service_name", "starts_with", "GPT"))
    lower = scope_with_rules_create("lower gpt", ("service_name", "starts_with", "gpt"))
    contains = scope_with_rules_create("Tokens", ("service_name", "contains", "Token"))
    wildcard = scope_with_rules_create("Wild", ("service_name", "contains", "%"))

    assert _matching(starts) == {"ai"}
    assert _matching(lower) == set()
    assert _matching(contains) == {"ai"}
    assert _matching(wildcard) == set()


def test_a_scope_without_rules_or_with_only_exclusions_matches_nothing(rows):
    empty = scope_with_rules_create("Empty")
    only_exclusion = scope_with_rules_create("Not AWS", ("provider_name", "not_equals", "AWS"))

    assert _matching(empty) == set()
    assert _matching(only_exclusion) == set()


def test_unallocated_rows_are_those_no_active_scope_claims(rows):
    scope_with_rules_create(
        "AWS", ("provider_name", "equals", "AWS"), ("region_id", "not_equals", "us-east-1")
    )
    scope_with_rules_create("Payments", ("tag", "equals", "payments", "team"))
    scope_with_rules_create("Inactive", ("provider_name", "equals", "OpenAI"), is_active=False)

    assert _unallocated() == {"vm-us", "vm-none", "ai"}


def test_everything_is_unallocated_without_scopes(rows):
    assert _unallocated() == {"vm-eu", "vm-us", "vm-none", "saas", "ai"}


def test_the_prefix_reaches_spend_rows_from_a_related_model(rows):
    from portfolio.models import Delivery

    scope = scope_with_rules_create("AI", ("technology_category", "equals", "ai"))
    deliveries = Delivery.objects.filter(scope_filter(scope, prefix="slices__daily__")).distinct()

    assert deliveries.count() == 1


def test_scopes_matching_a_row_in_one_query(rows, django_assert_num_queries):
    scope_with_rules_create("AWS", ("provider_name", "equals", "AWS"))
    scope_with_rules_create("EU", ("region_id", "starts_with", "eu"))
    scope_with_rules_create("Empty")
    row = rows["vm-eu"]

    with django_assert_num_queries(3):
        matching = scopes_matching(row=row)

    assert [scope.slug for scope in matching] == ["aws", "eu"]
