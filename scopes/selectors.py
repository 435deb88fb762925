"""Reads over scopes: the boundary of a scope as a filter over spend rows, and scope lookups.

Boundary filters are built from expressions that are never NULL (missing values compare as the
empty string), so negating a scope's filter, as the unallocated filter does, stays exact under
SQL's three-valued logic. Text comparisons are case-sensitive on every database: ``starts_with``
and ``contains`` use ``SUBSTR`` and ``INSTR``/``STRPOS`` rather than ``LIKE``, which SQLite
compares without regard to case.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, StrIndex, Substr
from django.db.models.lookups import Exact, GreaterThan

from scopes.categorization import tag_values
from scopes.models import (
    Dimension,
    Operator,
    Scope,
    ScopeRule,
    StrategicPriority,
    TechnologyCategory,
)

logger = logging.getLogger(__name__)

# Spend columns that a rule may test and that can be NULL; they are compared as "" when NULL.
_NULLABLE_DIMENSIONS = frozenset(
    {
        Dimension.PUBLISHER_NAME,
        Dimension.INVOICE_ISSUER_NAME,
        Dimension.SUB_ACCOUNT_ID,
        Dimension.SERVICE_SUBCATEGORY,
        Dimension.SERVICE_CATEGORY,
        Dimension.REGION_ID,
        Dimension.PRICING_UNIT,
    }
)


_TEXT = models.TextField()


class TagValue(models.Func):
    """The text value of one key of the ``tags`` JSON object, NULL when the key is absent.

    Django's key transforms read a digit-only key such as ``"2024"`` as an array index; tag keys
    are always object keys, so the path is built here with the key quoted as a string.
    """

    output_field = models.TextField()

    def __init__(self, key: str, *, field: str = "tags") -> None:
        super().__init__(F(field))
        self.key = key

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        lhs, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"({lhs} ->> %s)", (*params, self.key)
        # SQLite (and the JSON1 syntax generally): quote the key so it is never an index.
        return f"JSON_EXTRACT({lhs}, %s)", (*params, "$." + json.dumps(self.key))


def rule_expression(*, dimension: str, tag_key: str = "", prefix: str = "") -> models.Expression:
    """The never-NULL text a rule on ``dimension`` compares, over spend fields."""
    if dimension == Dimension.TAG:
        return Coalesce(TagValue(tag_key, field=f"{prefix}tags"), Value(""), output_field=_TEXT)
    if dimension == Dimension.TECHNOLOGY_CATEGORY:
        return F(f"{prefix}technology_category__slug")
    if dimension in _NULLABLE_DIMENSIONS:
        return Coalesce(F(f"{prefix}{dimension}"), Value(""), output_field=_TEXT)
    return F(f"{prefix}{dimension}")


def _rule_q(rule: ScopeRule, prefix: str) -> Q:
    expression = rule_expression(dimension=rule.dimension, tag_key=rule.tag_key, prefix=prefix)
    value = Value(rule.value, output_field=models.TextField())
    if rule.operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        return Q(Exact(expression, value))
    if rule.operator == Operator.STARTS_WITH:
        head = Substr(expression, 1, len(rule.value), output_field=models.TextField())
        return Q(Exact(head, value))
    if rule.operator == Operator.CONTAINS:
        return Q(GreaterThan(StrIndex(expression, value), 0))
    raise ValueError(f"Unknown scope rule operator {rule.operator!r}.")


def _rule_key(rule: ScopeRule) -> tuple[str, str]:
    # Tag rules on different keys are different dimensions: team=a AND env=prod.
    return rule.dimension, rule.tag_key if rule.dimension == Dimension.TAG else ""


def _nothing(prefix: str) -> Q:
    return Q(**{f"{prefix}pk__in": []})


def rules_filter(rules: Iterable[ScopeRule], *, prefix: str = "") -> Q:
    """The boundary of a set of rules as a Q; no rules (or only exclusions) match nothing."""
    included: dict[tuple[str, str], Q] = defaultdict(Q)
    excluded = Q()
    for rule in rules:
        if rule.operator == Operator.NOT_EQUALS:
            excluded &= ~_rule_q(rule, prefix)
        else:
            included[_rule_key(rule)] |= _rule_q(rule, prefix)
    if not included:
        # A scope made only of exclusions would claim almost all spend; it must say what it is.
        return _nothing(prefix)

    condition = Q()
    for alternatives in included.values():
        condition &= alternatives
    return condition & excluded


def scope_filter(scope: Scope, *, prefix: str = "") -> Q:
    """A Q over spend fields (behind ``prefix``, e.g. ``"rows__"``) matching the scope's rows.

    Rules on the same dimension are alternatives, rules on different dimensions must all hold,
    ``not_equals`` rules exclude. A scope with no inclusion rule matches nothing. Uses the
    prefetched ``rules`` when present.
    """
    return rules_filter(scope.rules.all(), prefix=prefix)


def rules_mask(
    rules: Iterable[ScopeRule],
    *,
    columns: Mapping[str, pa.Array],
    category_slugs: Mapping[int, str],
) -> pa.Array:
    """``rules_filter`` over rows given as arrays: True for the rows inside the boundary.

    ``columns`` maps stored spend field names to equal-length arrays (``tags`` as JSON text,
    ``technology_category_id`` as ints); ``category_slugs`` maps category ids to slugs. Same
    semantics as ``rules_filter``: case-sensitive, nulls compare as the empty string.
    """
    length = len(next(iter(columns.values())))
    texts: dict[tuple[str, str], pa.Array] = {}
    included: dict[tuple[str, str], pa.Array] = {}
    excluded = pa.array([True] * length, pa.bool_())
    for rule in rules:
        key = _rule_key(rule)
        if key not in texts:
            texts[key] = _rule_text(rule, columns, category_slugs, length)
        matched = _rule_mask(texts[key], rule)
        if rule.operator == Operator.NOT_EQUALS:
            excluded = pc.and_(excluded, matched)
        else:
            known = included.get(key)
            included[key] = matched if known is None else pc.or_(known, matched)
    if not included:
        return pa.array([False] * length, pa.bool_())
    mask = excluded
    for alternatives in included.values():
        mask = pc.and_(mask, alternatives)
    return mask


def _rule_text(
    rule: ScopeRule, columns: Mapping[str, pa.Array], category_slugs: Mapping[int, str], length: int
) -> pa.Array:
    if rule.dimension == Dimension.TAG:
        values = tag_values(columns.get("tags"), rule.tag_key, length)
    elif rule.dimension == Dimension.TECHNOLOGY_CATEGORY:
        ids = columns["technology_category_id"]
        known = pa.array(list(category_slugs), pa.int64())
        positions = pc.index_in(ids, value_set=known)
        values = pc.take(pa.array(list(category_slugs.values()), pa.string()), positions)
    else:
        values = columns.get(rule.dimension)
        if values is None:
            values = pa.nulls(length, pa.string())
    return pc.fill_null(pc.cast(values, pa.string()), "")


def _rule_mask(text: pa.Array, rule: ScopeRule) -> pa.Array:
    if rule.operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        hit = pc.equal(text, rule.value)
        return pc.invert(hit) if rule.operator == Operator.NOT_EQUALS else hit
    if rule.operator == Operator.STARTS_WITH:
        return pc.starts_with(text, rule.value)
    if rule.operator == Operator.CONTAINS:
        return pc.match_substring(text, rule.value)
    raise ValueError(f"Unknown scope rule operator {rule.operator!r}.")


def scope_list(*, active_only: bool = False) -> models.QuerySet[Scope]:
    """Scopes with their rules, priority, sponsor and owner loaded, ordered by name."""
    scopes = Scope.objects.select_related("priority", "sponsor", "owner").prefetch_related("rules")
    return scopes.filter(is_active=True) if active_only else scopes


def scope_get(*, slug: str) -> Scope | None:
    return scope_list().filter(slug=slug).first()


def unallocated_filter(*, prefix: str = "", scopes: Iterable[Scope] | None = None) -> Q:
    """A Q matching the rows that no active scope claims (all rows when there is no scope)."""
    if scopes is None:
        scopes = scope_list(active_only=True)
    claimed = Q()
    for scope in scopes:
        claimed |= scope_filter(scope, prefix=prefix)
    return ~claimed if claimed else Q()


def scopes_matching(*, row: models.Model, active_only: bool = True) -> list[Scope]:
    """The scopes whose boundary holds the given spend row, in one query over the row."""
    scopes = list(scope_list(active_only=active_only))
    if not scopes:
        return []
    flags = {
        f"in_scope_{scope.pk}": models.ExpressionWrapper(
            scope_filter(scope), output_field=models.BooleanField()
        )
        for scope in scopes
    }
    values = type(row)._default_manager.filter(pk=row.pk).values(**flags).first() or {}
    return [scope for scope in scopes if values.get(f"in_scope_{scope.pk}")]


def technology_category_list() -> models.QuerySet[TechnologyCategory]:
    return TechnologyCategory.objects.all()


def priority_list() -> models.QuerySet[StrategicPriority]:
    return StrategicPriority.objects.select_related("sponsor")
