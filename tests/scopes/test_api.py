import pytest

from scopes.models import Scope
from scopes.services import scope_create
from tests.factories import priority_create, technology_category_get_or_create

pytestmark = pytest.mark.django_db

LIST = "/api/v1/scopes/"


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _body(scope: Scope, **changes) -> dict:
    scope = Scope.objects.get(pk=scope.pk)
    body = {
        "slug": scope.slug,
        "name": scope.name,
        "description": scope.description,
        "priority": scope.priority.slug if scope.priority else None,
        "sponsor": scope.sponsor.username if scope.sponsor else None,
        "owner": scope.owner.username if scope.owner else None,
        "review_cadence": scope.review_cadence,
        "maturity": scope.maturity,
        "is_active": scope.is_active,
        "rules": [
            {
                "dimension": r.dimension,
                "operator": r.operator,
                "tag_key": r.tag_key,
                "value": r.value,
            }
            for r in scope.rules.all()
        ],
        "created_at": _iso(scope.created_at),
        "updated_at": _iso(scope.updated_at),
    }
    body.update(changes)
    return body


@pytest.fixture
def payments(executive, practitioner):
    return scope_create(
        name="Payments",
        description="Card processing platform.",
        priority=priority_create(name="Faster checkout"),
        sponsor=executive,
        owner=practitioner,
        rules=[
            {"dimension": "tag", "tag_key": "team", "value": "payments"},
            {"dimension": "provider_name", "operator": "not_equals", "value": "Slack"},
        ],
    )


def test_any_signed_in_user_lists_scopes_with_rules_and_people(
    payments, executive_api, django_assert_max_num_queries
):
    scope_create(name="Analytics")

    with django_assert_max_num_queries(3):
        response = executive_api.get(LIST)

    assert response.status_code == 200
    analytics = Scope.objects.get(slug="analytics")
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [_body(analytics), _body(payments)],
    }
    assert response.json()["results"][1]["rules"] == [
        {"dimension": "provider_name", "operator": "not_equals", "tag_key": "", "value": "Slack"},
        {"dimension": "tag", "operator": "equals", "tag_key": "team", "value": "payments"},
    ]
    assert response.json()["results"][1]["sponsor"] == "erin.executive"


def test_retrieve_one_scope_by_slug(payments, executive_api):
    response = executive_api.get(f"{LIST}payments/")

    assert response.status_code == 200
    assert response.json() == _body(payments)


def test_unknown_scope_is_a_404_envelope(executive_api):
    response = executive_api.get(f"{LIST}nope/")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "fields": {}}


def test_a_practitioner_creates_a_scope(practitioner_api, executive):
    technology_category_get_or_create("ai")
    priority_create(name="AI assistant launch")

    response = practitioner_api.post(
        LIST,
        {
            "name": "AI Assistant",
            "priority": "ai-assistant-launch",
            "sponsor": "erin.executive",
            "rules": [{"dimension": "technology_category", "value": "ai"}],
        },
        format="json",
    )

    assert response.status_code == 201
    scope = Scope.objects.get(slug="ai-assistant")
    assert response.json() == _body(scope)
    assert response.json()["rules"] == [
        {"dimension": "technology_category", "operator": "equals", "tag_key": "", "value": "ai"}
    ]
    assert (scope.priority.slug, scope.sponsor, scope.owner) == (
        "ai-assistant-launch",
        executive,
        None,
    )


def test_create_with_bad_rules_is_a_400_naming_the_rule(practitioner_api):
    response = practitioner_api.post(
        LIST, {"name": "Broken", "rules": [{"dimension": "tag", "value": "x"}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "rules: Rule 1: tag_key: A tag rule needs the tag key to test.",
        "code": "invalid",
        "fields": {"rules": ["Rule 1: tag_key: A tag rule needs the tag key to test."]},
    }
    assert not Scope.objects.exists()


def test_create_with_an_unknown_sponsor_is_a_400(practitioner_api):
    response = practitioner_api.post(LIST, {"name": "X", "sponsor": "ghost"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "sponsor: Object with username=ghost does not exist.",
        "code": "invalid",
        "fields": {"sponsor": ["Object with username=ghost does not exist."]},
    }


@pytest.mark.parametrize("client", ["executive_api", "finance_api"])
def test_only_practitioners_may_write(payments, request, client):
    api = request.getfixturevalue(client)

    responses = [
        api.post(LIST, {"name": "X"}, format="json"),
        api.patch(f"{LIST}payments/", {"name": "Y"}, format="json"),
        api.delete(f"{LIST}payments/"),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert responses[0].json() == {
        "message": "Only FinOps practitioners may change this.",
        "code": "permission_denied",
        "fields": {},
    }
    assert Scope.objects.get().name == "Payments"


def test_anonymous_users_may_not_read(payments, anonymous_api):
    response = anonymous_api.get(LIST)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_partial_update_keeps_rules_unless_given(payments, practitioner_api):
    response = practitioner_api.patch(
        f"{LIST}payments/", {"maturity": "run", "owner": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == _body(payments, maturity="run", owner=None)
    assert len(response.json()["rules"]) == 2


def test_full_update_replaces_everything_and_rules_as_a_set(payments, practitioner_api):
    response = practitioner_api.put(
        f"{LIST}payments/",
        {"name": "Payments platform", "rules": [{"dimension": "provider_name", "value": "AWS"}]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == _body(payments)
    assert response.json()["name"] == "Payments platform"
    assert response.json()["rules"] == [
        {"dimension": "provider_name", "operator": "equals", "tag_key": "", "value": "AWS"}
    ]


def test_a_practitioner_deletes_a_scope(payments, practitioner_api):
    response = practitioner_api.delete(f"{LIST}payments/")

    assert response.status_code == 204
    assert not Scope.objects.exists()


def test_technology_categories_and_priorities_are_read_only_lists(
    executive_api, practitioner_api, django_assert_max_num_queries
):
    technology_category_get_or_create("ai", name="AI", display_order=3, is_default=False)
    technology_category_get_or_create("saas", name="SaaS", display_order=2, is_default=True)
    priority_create(name="AI assistant launch", rank=1, target_outcome="1M users.")

    with django_assert_max_num_queries(2):
        categories = executive_api.get("/api/v1/technology-categories/")
    with django_assert_max_num_queries(2):
        priorities = executive_api.get("/api/v1/priorities/")
    write = practitioner_api.post("/api/v1/priorities/", {"name": "X"}, format="json")

    assert categories.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "slug": "saas",
                "name": "SaaS",
                "description": "",
                "display_order": 2,
                "is_default": True,
            },
            {
                "slug": "ai",
                "name": "AI",
                "description": "",
                "display_order": 3,
                "is_default": False,
            },
        ],
    }
    assert priorities.json()["results"] == [
        {
            "slug": "ai-assistant-launch",
            "name": "AI assistant launch",
            "description": "",
            "target_outcome": "1M users.",
            "sponsor": None,
            "status": "active",
            "rank": 1,
            "starts_on": None,
            "ends_on": None,
        }
    ]
    assert write.status_code == 405
