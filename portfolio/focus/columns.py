"""FOCUS cost-and-usage columns by version, their old names, and where each one is stored.

Version detection reads the header only: the newest column a file carries sets its version, and
names that FOCUS renamed before 1.0 mark a pre-1.0 file. Columns are matched by their exact
FOCUS id; old names are resolved to today's name.
"""

from __future__ import annotations

from collections.abc import Iterable

VERSIONS = ("0.5", "1.0-preview", "1.0", "1.1", "1.2", "1.3")

STRING = "string"
DECIMAL = "decimal"
DATETIME = "datetime"
JSON = "json"

# Every cost-and-usage column of FOCUS 1.0-preview to 1.3 (the column's id), with the version
# that introduced it under this name and its data type.
FOCUS_COLUMNS: dict[str, tuple[str, str]] = {
    "AvailabilityZone": ("0.5", STRING),
    "BilledCost": ("0.5", DECIMAL),
    "BillingAccountId": ("0.5", STRING),
    "BillingAccountName": ("0.5", STRING),
    "BillingAccountType": ("1.2", STRING),
    "BillingCurrency": ("0.5", STRING),
    "BillingPeriodEnd": ("0.5", DATETIME),
    "BillingPeriodStart": ("0.5", DATETIME),
    "CapacityReservationId": ("1.1", STRING),
    "CapacityReservationStatus": ("1.1", STRING),
    "ChargeCategory": ("1.0-preview", STRING),
    "ChargeClass": ("1.0", STRING),
    "ChargeDescription": ("1.0-preview", STRING),
    "ChargeFrequency": ("1.0-preview", STRING),
    "ChargePeriodEnd": ("0.5", DATETIME),
    "ChargePeriodStart": ("0.5", DATETIME),
    "CommitmentDiscountCategory": ("1.0-preview", STRING),
    "CommitmentDiscountId": ("1.0-preview", STRING),
    "CommitmentDiscountName": ("1.0-preview", STRING),
    "CommitmentDiscountQuantity": ("1.1", DECIMAL),
    "CommitmentDiscountStatus": ("1.0", STRING),
    "CommitmentDiscountType": ("1.0-preview", STRING),
    "CommitmentDiscountUnit": ("1.1", STRING),
    "ConsumedQuantity": ("1.0", DECIMAL),
    "ConsumedUnit": ("1.0", STRING),
    "ContractedCost": ("1.0", DECIMAL),
    "ContractedUnitPrice": ("1.0", DECIMAL),
    "EffectiveCost": ("1.0-preview", DECIMAL),
    "InvoiceId": ("1.2", STRING),
    "InvoiceIssuerName": ("0.5", STRING),
    "ListCost": ("1.0-preview", DECIMAL),
    "ListUnitPrice": ("1.0-preview", DECIMAL),
    "PricingCategory": ("1.0-preview", STRING),
    "PricingCurrency": ("1.2", STRING),
    "PricingCurrencyContractedUnitPrice": ("1.2", DECIMAL),
    "PricingCurrencyEffectiveCost": ("1.2", DECIMAL),
    "PricingCurrencyListUnitPrice": ("1.2", DECIMAL),
    "PricingQuantity": ("1.0-preview", DECIMAL),
    "PricingUnit": ("1.0-preview", STRING),
    "ProviderName": ("0.5", STRING),
    "PublisherName": ("0.5", STRING),
    "RegionId": ("1.0", STRING),
    "RegionName": ("1.0", STRING),
    "ResourceId": ("0.5", STRING),
    "ResourceName": ("0.5", STRING),
    "ResourceType": ("1.0-preview", STRING),
    "ServiceCategory": ("0.5", STRING),
    "ServiceName": ("0.5", STRING),
    "ServiceSubcategory": ("1.1", STRING),
    "SkuId": ("1.0-preview", STRING),
    "SkuMeter": ("1.1", STRING),
    "SkuPriceDetails": ("1.1", JSON),
    "SkuPriceId": ("1.0-preview", STRING),
    "SubAccountId": ("0.5", STRING),
    "SubAccountName": ("0.5", STRING),
    "SubAccountType": ("1.2", STRING),
    "Tags": ("1.0-preview", JSON),
    "AllocatedMethodDetails": ("1.3", JSON),
    "AllocatedMethodId": ("1.3", STRING),
    "AllocatedResourceId": ("1.3", STRING),
    "AllocatedResourceName": ("1.3", STRING),
    "AllocatedTags": ("1.3", JSON),
    "ContractApplied": ("1.3", JSON),
    "HostProviderName": ("1.3", STRING),
    "ServiceProviderName": ("1.3", STRING),
}

# Names that FOCUS renamed: old name -> today's name, and the last version that used the old one.
RENAMED: dict[str, tuple[str, str]] = {
    "AmortizedCost": ("EffectiveCost", "0.5"),
    "ChargeType": ("ChargeCategory", "0.5"),
    "UsageQuantity": ("ConsumedQuantity", "1.0-preview"),
    "UsageUnit": ("ConsumedUnit", "1.0-preview"),
    "Region": ("RegionId", "1.0-preview"),
}

# Columns FOCUS removed; still FOCUS names, so they are kept in extras without a warning.
REMOVED: dict[str, str] = {"ChargeSubcategory": "1.0-preview"}

# The stored field each FOCUS column is kept in; the others go to ``extras``.
# ServiceProviderName (1.3) replaces ProviderName in ``provider_name`` when a file has both.
FIELD_BY_COLUMN: dict[str, str] = {
    "AvailabilityZone": "availability_zone",
    "BilledCost": "billed_cost",
    "BillingAccountId": "billing_account_id",
    "BillingAccountName": "billing_account_name",
    "BillingAccountType": "billing_account_type",
    "BillingCurrency": "billing_currency",
    "BillingPeriodEnd": "billing_period_end",
    "BillingPeriodStart": "billing_period_start",
    "CapacityReservationId": "capacity_reservation_id",
    "CapacityReservationStatus": "capacity_reservation_status",
    "ChargeCategory": "charge_category",
    "ChargeClass": "charge_class",
    "ChargeDescription": "charge_description",
    "ChargeFrequency": "charge_frequency",
    "ChargePeriodEnd": "charge_period_end",
    "ChargePeriodStart": "charge_period_start",
    "CommitmentDiscountCategory": "commitment_discount_category",
    "CommitmentDiscountId": "commitment_discount_id",
    "CommitmentDiscountName": "commitment_discount_name",
    "CommitmentDiscountQuantity": "commitment_discount_quantity",
    "CommitmentDiscountStatus": "commitment_discount_status",
    "CommitmentDiscountType": "commitment_discount_type",
    "CommitmentDiscountUnit": "commitment_discount_unit",
    "ConsumedQuantity": "consumed_quantity",
    "ConsumedUnit": "consumed_unit",
    "ContractedCost": "contracted_cost",
    "ContractedUnitPrice": "contracted_unit_price",
    "EffectiveCost": "effective_cost",
    "HostProviderName": "host_provider_name",
    "InvoiceId": "invoice_id",
    "InvoiceIssuerName": "invoice_issuer_name",
    "ListCost": "list_cost",
    "ListUnitPrice": "list_unit_price",
    "PricingCategory": "pricing_category",
    "PricingCurrency": "pricing_currency",
    "PricingCurrencyContractedUnitPrice": "pricing_currency_contracted_unit_price",
    "PricingCurrencyEffectiveCost": "pricing_currency_effective_cost",
    "PricingCurrencyListUnitPrice": "pricing_currency_list_unit_price",
    "PricingQuantity": "pricing_quantity",
    "PricingUnit": "pricing_unit",
    "ProviderName": "provider_name",
    "PublisherName": "publisher_name",
    "RegionId": "region_id",
    "RegionName": "region_name",
    "ResourceId": "resource_id",
    "ResourceName": "resource_name",
    "ResourceType": "resource_type",
    "ServiceCategory": "service_category",
    "ServiceName": "service_name",
    "ServiceSubcategory": "service_subcategory",
    "SkuId": "sku_id",
    "SkuMeter": "sku_meter",
    "SkuPriceId": "sku_price_id",
    "SubAccountId": "sub_account_id",
    "SubAccountName": "sub_account_name",
    "SubAccountType": "sub_account_type",
    "Tags": "tags",
}

# Mandatory in every version from 1.0 on (levels did not change from 1.0 to 1.3).
_MANDATORY_1_0 = frozenset(
    {
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
        "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass",
        "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
        "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit",
        "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
    }
)  # fmt: skip
MANDATORY: dict[str, frozenset[str]] = {
    "0.5": _MANDATORY_1_0 - {"ChargeClass", "ContractedCost", "ListCost", "ChargeDescription"},
    "1.0-preview": _MANDATORY_1_0 - {"ChargeClass", "ContractedCost"},
    "1.0": _MANDATORY_1_0,
    "1.1": _MANDATORY_1_0,
    "1.2": _MANDATORY_1_0,
    "1.3": _MANDATORY_1_0 | {"HostProviderName", "ServiceProviderName"},
}

# Without these a row cannot be stored or counted, so a file lacking one is rejected. The other
# mandatory columns, when missing, are stored as null with a warning: real exports (the FOCUS
# spec's own SaaS example among them) leave some out.
REQUIRED = (
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
    "ServiceName",
)
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")

# Canonical values of the enumerated columns; drift in letter case is corrected with a warning.
ENUMERATIONS: dict[str, tuple[str, ...]] = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CapacityReservationStatus": ("Used", "Unused"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
}

# Columns that only exist in one dataset other than cost and usage.
CONTRACT_COMMITMENT_COLUMNS = frozenset({"ContractCommitmentId", "ContractCommitmentCategory"})

# Markers of each version: columns introduced in it (the newest one present wins).
_MARKERS = {
    version: frozenset(
        name for name, (introduced, _kind) in FOCUS_COLUMNS.items() if introduced == version
    )
    for version in ("1.3", "1.2", "1.1", "1.0")
}


def canonical_name(name: str) -> str:
    """Today's FOCUS name for ``name`` (itself when it was never renamed)."""
    renamed = RENAMED.get(name)
    return renamed[0] if renamed else name


def is_focus_name(name: str) -> bool:
    return name in FOCUS_COLUMNS or name in RENAMED or name in REMOVED


def focus_version_detect(columns: Iterable[str]) -> str:
    """The FOCUS version a header belongs to, from the newest column it carries.

    A header with none of the columns added in 1.0 or later, and with a name FOCUS retired
    before 1.0, is 1.0-preview (or 0.5 for names retired in 1.0-preview). A header with no
    marker at all is taken as 1.0, the first released version.
    """
    present = set(columns)
    for version, markers in _MARKERS.items():
        if present & markers:
            return version
    retired = {RENAMED[name][1] for name in present if name in RENAMED}
    retired |= {REMOVED[name] for name in present if name in REMOVED}
    if "0.5" in retired:
        return "0.5"
    if retired:
        return "1.0-preview"
    return "1.0"


def version_key(version: str) -> int:
    return VERSIONS.index(version) if version in VERSIONS else -1


# ISO 4217 codes of national and supranational currencies in use (the list of 2024). The X
# codes for gold, silver, testing and "no currency" (XAU, XTS, XXX...) are left out on purpose:
# FOCUS requires BillingCurrency to be a national currency, and XXX in a bill is a placeholder.
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""
ISO_4217_CURRENCIES = frozenset(_ISO_4217_CODES.split())
