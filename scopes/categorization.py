"""Technology categories: the standard set with its default rules, and assigning rows to them.

Each spend row falls into exactly one category: rules are tried in ascending priority, the first
that matches wins, and rows no rule matches fall into the default category. Category rules
compare text without regard to case, so "Openai" and "OpenAI" land together.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import IntegrityError, transaction

from scopes.models import Dimension, Operator, TechnologyCategory, TechnologyCategoryRule

logger = logging.getLogger(__name__)

PUBLIC_CLOUD = "public-cloud"

# (slug, name, display order, description)
STANDARD_CATEGORIES = (
    (PUBLIC_CLOUD, "Public Cloud", 10, "Hyperscale cloud providers' infrastructure and services."),
    ("saas", "SaaS", 20, "Software bought as a subscription service."),
    ("ai", "AI", 30, "AI models, platforms and tokens, wherever they run."),
    ("licensing", "Licensing", 40, "Software licences and support outside cloud bills."),
    ("data-center", "Data Center", 50, "Colocation, hardware and on-premises facilities."),
    ("private-cloud", "Private Cloud", 60, "Virtualised private infrastructure."),
)

# (priority, category slug, dimension, operator, value). AI first: an AI service of a public
# cloud provider is AI spend. Public Cloud rules are explicit, although it is also the default,
# so that a new default category does not silently capture the hyperscalers.
DEFAULT_RULES = (
    (10, "ai", Dimension.SERVICE_CATEGORY, Operator.EQUALS, "AI and Machine Learning"),
    (20, "ai", Dimension.PROVIDER_NAME, Operator.CONTAINS, "OpenAI"),
    (20, "ai", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Anthropic"),
    (20, "ai", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Cohere"),
    (20, "ai", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Mistral"),
    (21, "ai", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "OpenAI"),
    (21, "ai", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "Anthropic"),
    (21, "ai", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "Cohere"),
    (21, "ai", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "Mistral"),
    (30, "licensing", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Licensing"),
    (30, "licensing", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "Licensing"),
    (31, "licensing", Dimension.SERVICE_NAME, Operator.CONTAINS, "Licens"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Salesforce"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Slack"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Atlassian"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Workday"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "ServiceNow"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Zoom"),
    (40, "saas", Dimension.PROVIDER_NAME, Operator.CONTAINS, "GitHub"),
    (41, "saas", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "Salesforce"),
    (41, "saas", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "Atlassian"),
    (41, "saas", Dimension.PUBLISHER_NAME, Operator.CONTAINS, "GitHub"),
    # Business applications bought through a cloud bill (marketplace seats, suites) are SaaS.
    (45, "saas", Dimension.SERVICE_CATEGORY, Operator.EQUALS, "Business Applications"),
    (50, "data-center", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Equinix"),
    (50, "data-center", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Digital Realty"),
    (50, "data-center", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Data Center"),
    (51, "data-center", Dimension.SERVICE_CATEGORY, Operator.CONTAINS, "Data Center"),
    (60, "private-cloud", Dimension.PROVIDER_NAME, Operator.CONTAINS, "VMware"),
    (60, "private-cloud", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Nutanix"),
    (60, "private-cloud", Dimension.PROVIDER_NAME, Operator.CONTAINS, "Private Cloud"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.EQUALS, "AWS"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.STARTS_WITH, "Amazon Web Services"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.CONTAINS, "Azure"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.EQUALS, "Microsoft"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.CONTAINS, "Google Cloud"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.CONTAINS, "Oracle Cloud"),
    (70, PUBLIC_CLOUD, Dimension.PROVIDER_NAME, Operator.EQUALS, "Oracle"),
)


def technology_categories_ensure_defaults() -> dict[str, TechnologyCategory]:
    """Create the standard categories and their rules when no category exists yet.

    An existing list is the organisation's own and is left alone. Returns categories by slug.
    """
    try:
        _standard_categories_create()
    except IntegrityError:
        # Another process created them between our check and our insert: theirs stand.
        logger.info("technology categories: created concurrently by another process")
    return {category.slug: category for category in TechnologyCategory.objects.all()}


def _standard_categories_create() -> None:
    with transaction.atomic():
        if not TechnologyCategory.objects.exists():
            categories = {
                slug: TechnologyCategory.objects.create(
                    slug=slug, name=name, display_order=order, description=text,
                    is_default=slug == PUBLIC_CLOUD,
                )
                for slug, name, order, text in STANDARD_CATEGORIES
            }  # fmt: skip
            TechnologyCategoryRule.objects.bulk_create(
                TechnologyCategoryRule(
                    category=categories[slug], priority=priority, dimension=dimension,
                    operator=operator, value=value,
                )
                for priority, slug, dimension, operator, value in DEFAULT_RULES
            )  # fmt: skip
            logger.info("technology categories: created %s standard ones", len(categories))


@dataclass(frozen=True)
class CategoryRules:
    """The rules in the order they are tried, and the category of rows no rule matches."""

    rules: tuple[TechnologyCategoryRule, ...]
    default_id: int


def category_rules_load() -> CategoryRules:
    """The current rules; ensures the standard categories exist when there are none."""
    categories = technology_categories_ensure_defaults()
    default = next((c for c in categories.values() if c.is_default), None)
    if default is None:
        # No category is marked default: the first in display order takes the rest.
        default = min(categories.values(), key=lambda c: (c.display_order, c.name))
        logger.warning("technology categories: none is the default; using %s", default.slug)
    rules = tuple(TechnologyCategoryRule.objects.order_by("priority", "id"))
    return CategoryRules(rules=rules, default_id=default.pk)


def technology_category_assign(
    *, columns: Mapping[str, Any], rules: CategoryRules | None = None
) -> pa.Array:
    """The category id of each row (int64), given the rows' columns by stored field name.

    ``columns`` maps field names (``provider_name``, ``service_category``, ``tags`` as JSON
    text or dicts, ...) to pyarrow arrays or sequences of equal length; missing fields are
    treated as null. Exactly one category per row: first matching rule, else the default.
    """
    rules = rules or category_rules_load()
    length = len(next(iter(columns.values()))) if columns else 0
    assigned = pa.nulls(length, pa.int64())
    lowered: dict[tuple[str, str], pa.DictionaryArray] = {}

    for rule in rules.rules:
        # Rules are tested on each distinct value once: billing data repeats a few hundred
        # providers and services over millions of rows.
        text = _rule_text(columns, rule, length, lowered)
        matched_values = pc.fill_null(_rule_match(text.dictionary, rule), False)
        matched = pc.take(matched_values, text.indices)
        hit = pc.and_(matched, pc.is_null(assigned))
        assigned = pc.if_else(hit, pa.scalar(rule.category_id, pa.int64()), assigned)
    return pc.fill_null(assigned, rules.default_id)


def _rule_text(
    columns: Mapping[str, Any],
    rule: TechnologyCategoryRule,
    length: int,
    cache: dict[tuple[str, str], pa.DictionaryArray],
) -> pa.DictionaryArray:
    """The lower-cased text the rule tests, dictionary-encoded; nulls read as the empty string."""
    key = (rule.dimension, rule.tag_key if rule.dimension == Dimension.TAG else "")
    if key not in cache:
        if rule.dimension == Dimension.TAG:
            values = tag_values(columns.get("tags"), rule.tag_key, length)
        else:
            values = _as_array(columns.get(rule.dimension), length)
        encoded = pc.dictionary_encode(pc.fill_null(values, ""))
        cache[key] = pa.DictionaryArray.from_arrays(
            encoded.indices, pc.utf8_lower(encoded.dictionary)
        )
    return cache[key]


def _rule_match(text: pa.Array, rule: TechnologyCategoryRule) -> pa.Array:
    value = rule.value.lower()
    if rule.operator == Operator.EQUALS:
        return pc.equal(text, value)
    if rule.operator == Operator.NOT_EQUALS:
        return pc.not_equal(text, value)
    if rule.operator == Operator.STARTS_WITH:
        return pc.starts_with(text, value)
    if rule.operator == Operator.CONTAINS:
        return pc.match_substring(text, value)
    raise ValueError(f"Unknown category rule operator {rule.operator!r}.")


def _as_array(values: Any, length: int) -> pa.Array:
    if values is None:
        return pa.nulls(length, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), pa.string())
    return values.cast(pa.string())


def tag_values(tags: Any, key: str, length: int) -> pa.Array:
    """The value of one tag key per row, from tags given as JSON text or as dicts."""
    if tags is None:
        return pa.nulls(length, pa.string())
    if isinstance(tags, pa.ChunkedArray):
        tags = tags.combine_chunks()
    if not isinstance(tags, pa.Array):
        tags = pa.array([t if t is None or isinstance(t, str) else json.dumps(t) for t in tags])
    encoded = pc.dictionary_encode(tags)
    found = [_tag_lookup(text, key) for text in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(found, pa.string()), encoded.indices)


def _tag_lookup(text: str | None, key: str) -> str | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(value, dict) or key not in value or value[key] is None:
        return None
    return value[key] if isinstance(value[key], str) else json.dumps(value[key])


def technology_category_for_row(*, row: Mapping[str, Any]) -> int:
    """The category id of one row given as a dict of stored field values."""
    columns: dict[str, Sequence[Any]] = {name: [value] for name, value in row.items()}
    if not columns:
        columns = {"provider_name": [None]}
    return technology_category_assign(columns=columns)[0].as_py()
