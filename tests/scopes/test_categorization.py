"""Technology categories: the standard set, and exactly one category per row."""

from __future__ import annotations

import json

import pytest

from scopes.categorization import (
    DEFAULT_RULES,
    category_rules_load,
    technology_categories_ensure_defaults,
    technology_category_assign,
)
from scopes.models import Dimension, Operator, TechnologyCategory, TechnologyCategoryRule

pytestmark = pytest.mark.django_db


def _slugs(ids):
    names = dict(TechnologyCategory.objects.values_list("pk", "slug"))
    return [names[i] for i in ids.to_pylist()]


def test_the_standard_categories_and_rules_are_created_once():
    technology_categories_ensure_defaults()
    technology_categories_ensure_defaults()

    assert list(TechnologyCategory.objects.values_list("name", flat=True)) == [
        "Public Cloud", "SaaS", "AI", "Licensing", "Data Center", "Private Cloud",
    ]  # fmt: skip
    assert TechnologyCategory.objects.get(is_default=True).slug == "public-cloud"
    assert TechnologyCategoryRule.objects.count() == len(DEFAULT_RULES)


def test_an_organisations_own_categories_are_left_alone():
    TechnologyCategory.objects.create(name="Everything", slug="everything", is_default=True)

    categories = technology_categories_ensure_defaults()

    assert list(categories) == ["everything"]
    assert TechnologyCategoryRule.objects.count() == 0


def test_each_row_gets_exactly_one_category_by_the_default_rules():
    columns = {
        "provider_name": ["AWS", "Microsoft Azure", "OpenAI", "Salesforce", "Equinix",
                          "VMware", "ExampleCloud", "Oracle Licensing", None],
        "service_category": ["Compute", "AI and Machine Learning", "Other", None, "Other",
                             "Compute", "Business Applications", None, None],
    }  # fmt: skip

    assigned = technology_category_assign(columns=columns)

    assert _slugs(assigned) == [
        "public-cloud", "ai", "ai", "saas", "data-center", "private-cloud", "saas",
        "licensing", "public-cloud",
    ]  # fmt: skip


def test_the_first_rule_by_priority_wins_and_tags_can_decide():
    categories = technology_categories_ensure_defaults()
    TechnologyCategoryRule.objects.create(
        category=categories["licensing"], dimension=Dimension.TAG, tag_key="cost-type",
        operator=Operator.EQUALS, value="licence", priority=1,
    )  # fmt: skip
    rules = category_rules_load()
    tags = [json.dumps({"cost-type": "licence"}), None, json.dumps({"cost-type": "other"})]

    assigned = technology_category_assign(
        columns={"provider_name": ["OpenAI"] * 3, "tags": tags}, rules=rules
    )

    assert _slugs(assigned) == ["licensing", "ai", "ai"]


def test_matching_ignores_letter_case_and_not_equals_matches_nulls():
    categories = technology_categories_ensure_defaults()
    TechnologyCategoryRule.objects.all().delete()
    TechnologyCategoryRule.objects.create(
        category=categories["saas"], dimension=Dimension.REGION_ID,
        operator=Operator.NOT_EQUALS, value="US-EAST-1",
    )  # fmt: skip

    assigned = technology_category_assign(columns={"region_id": ["us-east-1", None, "eu-west-1"]})

    assert _slugs(assigned) == ["public-cloud", "saas", "saas"]
