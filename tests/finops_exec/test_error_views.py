import pytest


@pytest.mark.django_db
def test_an_unknown_api_path_answers_in_the_json_envelope(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "message": "There is no API endpoint at /api/v1/no-such-thing/; see /api/schema/.",
        "code": "not_found",
        "fields": {},
    }


@pytest.mark.django_db
def test_an_unknown_page_answers_in_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
