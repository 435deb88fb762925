import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions

from finops_exec.api_errors import ApplicationError, api_exception_handler


def _handle(exc: Exception):
    response = api_exception_handler(exc, {"view": None})
    return response.status_code, response.data


def test_application_errors_keep_their_message_code_fields_and_status():
    error = ApplicationError(
        "The delivery 'x' is still running; wait for it to finish.",
        code="conflict",
        fields={"delivery": ["Still running."]},
        status_code=409,
    )

    assert _handle(error) == (
        409,
        {
            "message": "The delivery 'x' is still running; wait for it to finish.",
            "code": "conflict",
            "fields": {"delivery": ["Still running."]},
        },
    )


def test_django_validation_errors_become_a_400_with_their_fields():
    error = ValidationError({"slug": ["Scope with this Slug already exists."]})

    assert _handle(error) == (
        400,
        {
            "message": "slug: Scope with this Slug already exists.",
            "code": "invalid",
            "fields": {"slug": ["Scope with this Slug already exists."]},
        },
    )


def test_validation_errors_without_fields_are_non_field_errors():
    status, body = _handle(ValidationError("The file is empty."))

    assert status == 400
    assert body == {
        "message": "The file is empty.",
        "code": "invalid",
        "fields": {"non_field_errors": ["The file is empty."]},
    }


def test_nested_serializer_errors_name_the_first_field():
    error = exceptions.ValidationError({"rules": [{"dimension": ["This field is required."]}]})

    status, body = _handle(error)

    assert status == 400
    assert body["message"] == "rules: dimension: This field is required."
    assert body["fields"] == {"rules": [{"dimension": ["This field is required."]}]}


@pytest.mark.parametrize(
    ("error", "status", "message", "code"),
    [
        (Http404(), 404, "Not found.", "not_found"),
        (
            PermissionDenied(),
            403,
            "You do not have permission to perform this action.",
            "permission_denied",
        ),
        (
            exceptions.MethodNotAllowed("PUT"),
            405,
            'Method "PUT" not allowed.',
            "method_not_allowed",
        ),
        (
            exceptions.NotAuthenticated(),
            401,
            "Authentication credentials were not provided.",
            "not_authenticated",
        ),
    ],
)
def test_framework_errors_use_the_same_envelope(error, status, message, code):
    assert _handle(error) == (status, {"message": message, "code": code, "fields": {}})


def test_unexpected_errors_are_a_generic_500_and_the_details_are_logged(caplog):
    # DRF calls the handler while the exception is being handled, as here.
    with caplog.at_level(logging.ERROR, logger="finops_exec.api_errors"):
        try:
            raise ZeroDivisionError("secret detail")
        except ZeroDivisionError as error:
            status, body = _handle(error)

    assert status == 500
    assert body == {
        "message": "Something went wrong on our side; the error has been logged.",
        "code": "server_error",
        "fields": {},
    }
    assert "secret detail" not in str(body)
    assert "ZeroDivisionError: secret detail" in caplog.text


@pytest.mark.django_db
def test_the_handler_serves_the_real_api(practitioner_api):
    response = practitioner_api.post("/api/v1/technology-categories/", {}, format="json")

    assert response.status_code == 405
    assert response.json() == {
        "message": 'Method "POST" not allowed.',
        "code": "method_not_allowed",
        "fields": {},
    }
