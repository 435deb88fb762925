"""Site-wide error pages: API paths answer in the API's JSON error envelope, pages in HTML."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        body = {
            "message": f"There is no API endpoint at {request.path}; see /api/schema/.",
            "code": "not_found",
            "fields": {},
        }
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = {
            "message": "Something went wrong on our side; the error has been logged.",
            "code": "server_error",
            "fields": {},
        }
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
