"""Writes to scopes: create, update (rules replaced as a set) and delete, with full validation."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.text import slugify

from scopes.models import Dimension, Operator, Scope, ScopeRule, TechnologyCategory

logger = logging.getLogger(__name__)

# Scope fields that ``scope_update`` may change; rules have their own argument.
SCOPE_FIELDS = (
    "name",
    "slug",
    "description",
    "priority",
    "sponsor",
    "owner",
    "review_cadence",
    "maturity",
    "is_active",
)

RuleData = Mapping[str, Any]


def _rule_key(rule: ScopeRule) -> tuple[str, str, str, str]:
    return rule.dimension, rule.operator, rule.tag_key, rule.value


def _rules_build(rules: Sequence[RuleData]) -> list[ScopeRule]:
    """Unsaved, validated rules; errors name the rule by its position, counted from 1."""
    built: list[ScopeRule] = []
    errors: list[str] = []
    category_slugs: set[str] | None = None
    for number, data in enumerate(rules, start=1):
        rule = ScopeRule(
            dimension=data.get("dimension", ""),
            operator=data.get("operator") or Operator.EQUALS,
            tag_key=data.get("tag_key") or "",
            value=data.get("value", ""),
        )
        try:
            rule.full_clean(exclude=["scope"])
        except ValidationError as error:
            errors.extend(
                f"Rule {number}: {field}: {message}"
                for field, messages in error.message_dict.items()
                for message in messages
            )
            continue
        if rule.dimension == Dimension.TECHNOLOGY_CATEGORY:
            if category_slugs is None:
                category_slugs = set(TechnologyCategory.objects.values_list("slug", flat=True))
            if rule.value not in category_slugs:
                errors.append(
                    f"Rule {number}: no technology category has the slug {rule.value!r}; "
                    "use the slug of an existing category."
                )
                continue
        if _rule_key(rule) in {_rule_key(other) for other in built}:
            errors.append(f"Rule {number}: it repeats an earlier rule; give each rule once.")
            continue
        built.append(rule)
    if errors:
        raise ValidationError({"rules": errors})
    return built


@transaction.atomic
def scope_create(
    *, name: str, slug: str | None = None, rules: Sequence[RuleData] = (), **fields: Any
) -> Scope:
    """Create a scope and its boundary rules; raise ``ValidationError`` and store nothing if
    the scope or any rule is invalid. ``fields`` are the other ``SCOPE_FIELDS``."""
    _check_fields(fields)
    scope = Scope(name=name, slug=slug or slugify(name), **fields)
    scope.full_clean()
    built = _rules_build(rules)

    scope.save()
    for rule in built:
        rule.scope = scope
    ScopeRule.objects.bulk_create(built)

    logger.info("scope %s: created with %s rules", scope.slug, len(built))
    return scope


@transaction.atomic
def scope_update(*, scope: Scope, rules: Sequence[RuleData] | None = None, **fields: Any) -> Scope:
    """Change the given fields; when ``rules`` is given it replaces the scope's rules as a set.

    Rules that stay the same keep their rows; the others are deleted or created. Raises
    ``ValidationError`` and changes nothing when the result would be invalid.
    """
    _check_fields(fields)
    for field, value in fields.items():
        setattr(scope, field, value)
    scope.full_clean()
    built = _rules_build(rules) if rules is not None else None

    scope.save()
    if built is not None:
        _rules_replace(scope, built)

    logger.info("scope %s: updated %s", scope.slug, ", ".join(sorted(fields)) or "rules")
    return scope


def _rules_replace(scope: Scope, built: list[ScopeRule]) -> None:
    wanted = {_rule_key(rule): rule for rule in built}
    existing = {_rule_key(rule): rule for rule in ScopeRule.objects.filter(scope=scope)}
    stale = [rule.pk for key, rule in existing.items() if key not in wanted]
    ScopeRule.objects.filter(pk__in=stale).delete()

    new = [rule for key, rule in wanted.items() if key not in existing]
    for rule in new:
        rule.scope = scope
    ScopeRule.objects.bulk_create(new)
    # Drop any prefetched rules so the caller reads the new set.
    getattr(scope, "_prefetched_objects_cache", {}).pop("rules", None)


def scope_delete(*, scope: Scope) -> None:
    """Delete the scope and its rules; its spend rows are untouched (they may fall unallocated).

    Raises ``ValidationError`` naming what still depends on the scope when something protects it.
    """
    slug = scope.slug
    try:
        with transaction.atomic():
            scope.delete()
    except (ProtectedError, RestrictedError) as error:
        kinds = sorted({obj._meta.verbose_name_plural for obj in error.args[1]})
        raise ValidationError(
            f"The scope {slug!r} is still used by {', '.join(map(str, kinds))}; "
            "move or delete those first, or mark the scope inactive."
        ) from None
    logger.info("scope %s: deleted", slug)


def _check_fields(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(SCOPE_FIELDS))
    if unknown:
        raise TypeError(f"Unknown scope fields: {', '.join(unknown)}.")
