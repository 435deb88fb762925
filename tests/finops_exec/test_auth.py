import re

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import spend_row_create

pytestmark = pytest.mark.django_db

# The only pages anyone may open without signing in.
PUBLIC = {"/healthz", "/accounts/login/", "/admin/login/"}
LOGIN_PAGES = {reverse(settings.LOGIN_URL), "/admin/login/"}

_SAMPLES = {
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x/y",
    "uuid": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
}


def _route_to_url(route: str) -> str:
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES.get(m.group(1) or "str", "x"), route)
    # Regex patterns: named or plain groups get a sample value, anchors and escapes go.
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(r"\([^)]*\)", "1", route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    return route.replace(".*", "x").replace("?", "")


def _urls(resolver: URLResolver, prefix: str = "") -> list[str]:
    urls = []
    for entry in resolver.url_patterns:
        route = prefix + _route_to_url(str(entry.pattern))
        if isinstance(entry, URLResolver):
            urls.extend(_urls(entry, route))
        elif isinstance(entry, URLPattern):
            urls.append("/" + route)
    return sorted(set(urls))


def test_the_url_walk_finds_the_api_and_the_briefs():
    urls = _urls(get_resolver())

    assert {"/healthz", "/api/v1/spend/", "/api/v1/scopes/x/", "/api/schema/"} <= set(urls)
    assert any(url.startswith("/briefs/") for url in urls)


def test_nothing_but_health_and_login_answers_without_signing_in(client):
    leaks = []
    for url in _urls(get_resolver()):
        response = client.get(url, follow=True)
        final = response.request["PATH_INFO"]
        if url in PUBLIC or final in LOGIN_PAGES:
            continue
        if response.status_code in (401, 403, 405):
            continue
        leaks.append((url, final, response.status_code))

    assert leaks == []


def test_login_page_and_health_answer_without_signing_in(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def test_token_authentication_reads_spend(finance):
    spend_row_create(cost="12.50")
    token = Token.objects.create(user=finance)
    client = APIClient()

    response = client.get("/api/v1/spend/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "billing_currency": "USD",
                "billed_cost": "12.50",
                "effective_cost": "12.50",
                "list_cost": "12.50",
                "contracted_cost": "12.50",
                "row_count": 1,
            }
        ],
        "count": 1,
    }


def test_a_wrong_token_is_refused(finance):
    Token.objects.create(user=finance)

    response = APIClient().get("/api/v1/spend/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "message": "Invalid token.",
        "code": "authentication_failed",
        "fields": {},
    }


def test_the_openapi_schema_is_served_to_signed_in_users(executive_api, anonymous_api):
    response = executive_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "finops_exec API"
    assert {"/api/v1/spend/", "/api/v1/scopes/", "/api/v1/scopes/{slug}/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/spend/"]["get"]["parameters"]}
    assert {"group_by", "start", "end", "scope", "format"} <= parameters
    assert anonymous_api.get("/api/schema/").status_code == 401
