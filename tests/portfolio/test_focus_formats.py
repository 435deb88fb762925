"""Formats real exports come in: delimiters, decimal commas, exponents, Parquet, gzip and zip."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from finops_exec.exact import ExactSum
from portfolio.models import DailySpend, Delivery, SpendBlock
from portfolio.rowstore import rows_list
from portfolio.selectors import spend_current
from portfolio.services.ingest import delivery_create, delivery_ingest
from tests.conftest import BUGCASES_DIR, SAMPLES_DIR
from tests.portfolio.focus_files import COSTS, NULLS, csv_rows, csv_totals

pytestmark = pytest.mark.django_db

COST_AND_USAGE_SAMPLES = sorted(
    p for p in SAMPLES_DIR.glob("*.csv") if "contractcommitment" not in p.name
)
B15 = BUGCASES_DIR / "B15-negative-credits-refund.csv"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.INGEST_UPLOAD_DIR = tmp_path / "ingest"
    return settings.INGEST_UPLOAD_DIR


def _ingest(*paths: Path) -> Delivery:
    return delivery_ingest(delivery=delivery_create(paths=list(paths)))


def _totals(delivery: Delivery) -> dict[str, dict[str, Decimal]]:
    return {
        currency: {name: Decimal(value) for name, value in sums.items()}
        for currency, sums in delivery.totals.items()
    }


def _expected(*paths: Path) -> dict[str, dict[str, Decimal]]:
    combined: dict[str, dict[str, Decimal]] = {}
    for path in paths:
        for currency, sums in csv_totals(path).items():
            into = combined.setdefault(currency, {name: Decimal(0) for name in COSTS})
            for name, value in sums.items():
                into[name] += value
    return combined


def _rewrite(source: Path, target: Path, delimiter: str) -> Path:
    rows = csv_rows(source)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.mark.parametrize(("delimiter", "label"), [(";", "semicolon"), ("\t", "tab"), ("|", "bar")])
def test_semicolon_tab_and_bar_delimited_files_load_exactly(tmp_path, delimiter, label):
    source = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"
    path = _rewrite(source, tmp_path / f"{label}.csv", delimiter)

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.LOADED
    assert delivery.rows_loaded == 25
    assert _totals(delivery) == _expected(source)


def test_a_decimal_comma_file_is_rejected_naming_the_value_never_misread(tmp_path):
    rows = csv_rows(B15)
    for row in rows:
        for column in COSTS.values():
            row[column] = row[column].replace(".", ",")
    path = tmp_path / "decimal-comma.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.REJECTED
    assert (SpendBlock.objects.count(), DailySpend.objects.count()) == (0, 0)
    assert delivery.errors[0]["message"] == (
        'decimal-comma.csv data row 1, column BilledCost: "100,00" has a comma as decimal mark; '
        "FOCUS numbers use a point (12.50). The file was not loaded so that no amount is "
        "misread; export it with a point as decimal mark."
    )
    assert (delivery.errors[0]["row"], delivery.errors[0]["value"]) == (1, "100,00")


def test_numbers_in_exponent_notation_are_stored_exactly(tmp_path):
    rows = csv_rows(B15)
    rows[0]["BilledCost"], rows[0]["EffectiveCost"] = "1.0000000000000001E2", "35.2E-7"
    path = _rewrite_rows(rows, tmp_path / "exponent.csv")

    delivery = _ingest(path)

    stored = rows_list(every=True)
    first = next(row for row in stored if row["source_row"] == 1)
    assert delivery.status == Delivery.Status.LOADED
    assert first["billed_cost"] == Decimal("100.00000000000001")
    assert first["effective_cost"] == Decimal("0.00000352")
    expected = sum(Decimal(r["BilledCost"]) for r in rows)
    assert sum(row["billed_cost"] for row in stored) == expected
    assert spend_current().aggregate(total=ExactSum("billed_cost"))["total"] == expected


def _rewrite_rows(rows: list[dict[str, str]], target: Path) -> Path:
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def _to_parquet(source: Path, target: Path) -> Path:
    """Cost columns as decimal128(38, 18), the others as text, nulls as real nulls."""
    rows = csv_rows(source)
    arrays, names = [], list(rows[0])
    for name in names:
        values = [None if row[name] in NULLS else row[name] for row in rows]
        if name in COSTS.values():
            arrays.append(pa.array([None if v is None else Decimal(v) for v in values],
                                   pa.decimal128(38, 18)))  # fmt: skip
        else:
            arrays.append(pa.array(values, pa.string()))
    pq.write_table(pa.table(arrays, names=names), target)
    return target


def _to_gzip(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


@pytest.mark.parametrize("source", COST_AND_USAGE_SAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("kind", ["parquet", "gzip"])
def test_every_sample_as_parquet_or_gzip_named_csv_loads_to_the_exact_totals(
    tmp_path, source, kind
):
    convert = _to_parquet if kind == "parquet" else _to_gzip
    path = convert(source, tmp_path / f"{source.stem}.csv" if kind == "gzip" else
                   tmp_path / f"{source.stem}.parquet")  # fmt: skip

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.LOADED, delivery.errors
    assert delivery.files[0]["format"] == ("parquet" if kind == "parquet" else "csv.gz")
    assert delivery.rows_loaded == len(csv_rows(source))
    assert _totals(delivery) == _expected(source)


def _zip(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return target


def test_a_zip_of_several_files_loads_as_one_delivery(tmp_path):
    gcp = SAMPLES_DIR / "synthetic-gcp-focus1.2-credits.csv"
    azure = SAMPLES_DIR / "synthetic-azure-focus1.2.csv"
    path = _zip(
        tmp_path / "export.bin",
        {
            "export/gcp.csv": gcp.read_bytes(),
            "export/azure.csv.gz": gzip.compress(azure.read_bytes()),
            "__MACOSX/._gcp.csv": b"resource fork",
            "export/": b"",
        },
    )

    delivery = _ingest(path)

    assert delivery.status == Delivery.Status.LOADED
    assert [(f["name"], f["format"]) for f in delivery.files] == [
        ("gcp.csv", "csv"),
        ("azure.csv.gz", "csv.gz"),
    ]
    assert delivery.rows_loaded == 125
    assert _totals(delivery) == _expected(gcp, azure)


def test_the_same_zip_loaded_again_is_recognised_as_a_replay(tmp_path):
    path = _zip(tmp_path / "export.zip", {"b15.csv": B15.read_bytes()})
    first = _ingest(path)

    again = _ingest(path)

    assert again.duplicate_of_id == first.pk
    assert len(rows_list(every=True)) == 5


def test_a_zip_inside_a_zip_is_refused_clearly(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("b15.csv", B15.read_bytes())
    path = _zip(tmp_path / "outer.zip", {"inner.zip": inner.getvalue()})

    from finops_exec.api_errors import ApplicationError

    with pytest.raises(ApplicationError) as caught:
        delivery_create(paths=[path])
    assert caught.value.message == (
        "outer.zip holds another zip archive (inner.zip); send the FOCUS files inside it, "
        "zipped without folders of archives, or one by one."
    )
    assert caught.value.code == "archive_unreadable"


def test_an_uploaded_zip_loads_as_one_delivery(
    practitioner_api, django_capture_on_commit_callbacks, tmp_path
):
    path = _zip(tmp_path / "upload.zip", {"a.csv": B15.read_bytes(),
                                          "b.csv.gz": gzip.compress(B15.read_bytes())})  # fmt: skip
    upload = SimpleUploadedFile("upload.zip", path.read_bytes())

    with django_capture_on_commit_callbacks(execute=True):
        response = practitioner_api.post(reverse("ingest-list"), {"file": [upload]},
                                         format="multipart")  # fmt: skip

    delivery = Delivery.objects.get()
    assert response.status_code == 202
    assert delivery.status == Delivery.Status.LOADED
    assert [f["name"] for f in delivery.files] == ["a.csv", "b.csv.gz"]
    assert delivery.rows_loaded == 10
    assert _totals(delivery) == _expected(B15, B15)
