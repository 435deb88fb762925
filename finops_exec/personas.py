"""The people who use the product, as Django groups, and the API permissions built on them.

Executives read briefs; practitioners maintain scopes, rules, decisions and data; finance pulls
exports. Superusers may do everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from rest_framework.permissions import SAFE_METHODS, BasePermission

EXECUTIVE = "executive"
PRACTITIONER = "practitioner"
FINANCE = "finance"
PERSONAS = (EXECUTIVE, PRACTITIONER, FINANCE)


def persona_groups_ensure() -> dict[str, Group]:
    """Create the persona groups if they are missing and return them by name."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in PERSONAS}


def person_name(user: Any) -> str:
    """How a person is named on pages and in briefs: full name, else username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def user_has_persona(user: AbstractBaseUser | AnonymousUser, *personas: str) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return user.groups.filter(name__in=personas).exists()  # type: ignore[attr-defined]


class IsPractitionerOrReadOnly(BasePermission):
    """Any signed-in user may read; only practitioners may write."""

    message = "Only FinOps practitioners may change this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return True
        return user_has_persona(request.user, PRACTITIONER)


class IsPractitioner(BasePermission):
    message = "Only FinOps practitioners may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_persona(request.user, PRACTITIONER)
