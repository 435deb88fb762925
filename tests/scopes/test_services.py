import pytest
from django.core.exceptions import ValidationError

from scopes.models import Scope, ScopeRule
from scopes.services import scope_create, scope_delete, scope_update
from tests.factories import priority_create, technology_category_get_or_create

pytestmark = pytest.mark.django_db


def _rules(scope: Scope) -> list[tuple[str, str, str, str]]:
    return sorted(scope.rules.values_list("dimension", "operator", "tag_key", "value"))


def test_create_makes_the_scope_with_a_slug_from_its_name_and_its_rules(practitioner):
    technology_category_get_or_create("ai")
    priority = priority_create()

    scope = scope_create(
        name="AI Assistant",
        rules=[
            {"dimension": "technology_category", "value": "ai"},
            {"dimension": "tag", "tag_key": "product", "operator": "equals", "value": "assistant"},
        ],
        priority=priority,
        owner=practitioner,
        maturity=Scope.Maturity.WALK,
    )

    scope.refresh_from_db()
    assert (scope.slug, scope.priority, scope.owner, scope.maturity) == (
        "ai-assistant",
        priority,
        practitioner,
        "walk",
    )
    assert _rules(scope) == [
        ("tag", "equals", "product", "assistant"),
        ("technology_category", "equals", "", "ai"),
    ]


def test_create_refuses_invalid_rules_naming_each_and_stores_nothing():
    with pytest.raises(ValidationError) as raised:
        scope_create(
            name="Broken",
            rules=[
                {"dimension": "tag", "value": "payments"},
                {"dimension": "provider_name", "tag_key": "team", "value": "AWS"},
                {"dimension": "technology_category", "value": "quantum"},
                {"dimension": "colour", "operator": "near", "value": "red"},
            ],
        )

    assert raised.value.message_dict == {
        "rules": [
            "Rule 1: tag_key: A tag rule needs the tag key to test.",
            "Rule 2: tag_key: Only tag rules have a tag key.",
            "Rule 3: no technology category has the slug 'quantum'; "
            "use the slug of an existing category.",
            "Rule 4: dimension: Value 'colour' is not a valid choice.",
            "Rule 4: operator: Value 'near' is not a valid choice.",
        ]
    }
    assert not Scope.objects.exists()


def test_create_refuses_a_duplicate_slug_and_a_repeated_rule():
    scope_create(name="Payments", rules=[])

    with pytest.raises(ValidationError) as duplicate:
        scope_create(name="Payments again", slug="payments")
    with pytest.raises(ValidationError) as repeated:
        scope_create(
            name="Twice",
            rules=[{"dimension": "provider_name", "value": "AWS"}] * 2,
        )

    assert duplicate.value.message_dict == {"slug": ["Scope with this Slug already exists."]}
    assert repeated.value.message_dict == {
        "rules": ["Rule 2: it repeats an earlier rule; give each rule once."]
    }
    assert list(Scope.objects.values_list("slug", flat=True)) == ["payments"]


def test_update_replaces_the_rules_as_a_set_and_keeps_unchanged_rules():
    scope = scope_create(
        name="Cloud",
        rules=[
            {"dimension": "provider_name", "value": "AWS"},
            {"dimension": "provider_name", "value": "Azure"},
        ],
    )
    kept = scope.rules.get(value="AWS")

    scope_update(
        scope=scope,
        description="All public cloud.",
        rules=[
            {"dimension": "provider_name", "value": "AWS"},
            {"dimension": "provider_name", "value": "Google Cloud"},
        ],
    )

    scope.refresh_from_db()
    assert scope.description == "All public cloud."
    assert _rules(scope) == [
        ("provider_name", "equals", "", "AWS"),
        ("provider_name", "equals", "", "Google Cloud"),
    ]
    assert scope.rules.get(value="AWS").pk == kept.pk


def test_update_without_rules_leaves_them_and_invalid_update_changes_nothing():
    scope = scope_create(name="Cloud", rules=[{"dimension": "provider_name", "value": "AWS"}])

    scope_update(scope=scope, maturity=Scope.Maturity.RUN)
    with pytest.raises(ValidationError):
        scope_update(scope=scope, name="Renamed", rules=[{"dimension": "tag", "value": "x"}])

    scope = Scope.objects.get(pk=scope.pk)
    assert (scope.name, scope.maturity) == ("Cloud", "run")
    assert _rules(scope) == [("provider_name", "equals", "", "AWS")]


def test_update_refuses_unknown_fields():
    scope = scope_create(name="Cloud")

    with pytest.raises(TypeError, match=r"Unknown scope fields: colour\."):
        scope_update(scope=scope, colour="red")


def test_delete_removes_the_scope_and_its_rules():
    scope = scope_create(name="Cloud", rules=[{"dimension": "provider_name", "value": "AWS"}])

    scope_delete(scope=scope)

    assert not Scope.objects.exists()
    assert not ScopeRule.objects.exists()


def test_delete_of_a_protected_scope_names_what_still_uses_it(monkeypatch):
    from django.db.models import ProtectedError

    scope = scope_create(name="Cloud")
    rule = ScopeRule.objects.create(scope=scope, dimension="provider_name", value="AWS")

    def protected(*args, **kwargs):
        raise ProtectedError("protected", {rule})

    monkeypatch.setattr(Scope, "delete", protected)

    with pytest.raises(ValidationError) as raised:
        scope_delete(scope=scope)

    assert raised.value.messages == [
        "The scope 'cloud' is still used by scope rules; move or delete those first, "
        "or mark the scope inactive."
    ]
