"""Input and output shapes of the scopes API; people by username, priorities by slug."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from scopes.models import Dimension, Operator, Scope, StrategicPriority, TechnologyCategory


class ScopeRuleInputSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=Dimension.choices)
    operator = serializers.ChoiceField(choices=Operator.choices, default=Operator.EQUALS)
    tag_key = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    value = serializers.CharField(max_length=300)


class ScopeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=StrategicPriority.objects.all(),
        required=False,
        allow_null=True,
    )
    sponsor = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
    )
    review_cadence = serializers.ChoiceField(choices=Scope.Cadence.choices, required=False)
    maturity = serializers.ChoiceField(choices=Scope.Maturity.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    rules = ScopeRuleInputSerializer(many=True, required=False)


class ScopeRuleOutputSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    operator = serializers.CharField()
    tag_key = serializers.CharField()
    value = serializers.CharField()


class ScopeOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    priority = serializers.CharField(source="priority.slug", allow_null=True)
    sponsor = serializers.CharField(source="sponsor.username", allow_null=True)
    owner = serializers.CharField(source="owner.username", allow_null=True)
    review_cadence = serializers.CharField()
    maturity = serializers.CharField()
    is_active = serializers.BooleanField()
    rules = ScopeRuleOutputSerializer(many=True, source="rules.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TechnologyCategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = TechnologyCategory
        fields = ["slug", "name", "description", "display_order", "is_default"]


class PriorityOutputSerializer(serializers.ModelSerializer):
    sponsor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StrategicPriority
        fields = [
            "slug",
            "name",
            "description",
            "target_outcome",
            "sponsor",
            "status",
            "rank",
            "starts_on",
            "ends_on",
        ]
