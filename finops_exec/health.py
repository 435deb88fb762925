"""Liveness check for load balancers and operators: database and broker reachability."""

from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    # TODO: placeholder being replaced by the real database and broker probes.
    return JsonResponse({"database": "ok", "broker": "eager"})
