import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.models import SpendBlock
from tests.factories import spend_row_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests")
    client.force_login(user)
    return client


def test_the_spend_admin_pages_list_sums_and_blocks(admin_client):
    spend_row_create(cost="12.50", service_name="Example VMs")

    sums = admin_client.get("/admin/portfolio/dailyspend/")
    blocks = admin_client.get("/admin/portfolio/spendblock/")

    assert sums.status_code == blocks.status_code == 200
    assert "Example VMs" in sums.content.decode()
    assert "12.5" in sums.content.decode()
    assert "1 spend block" in blocks.content.decode()


def test_the_block_pages_never_read_the_parquet_bytes(admin_client):
    spend_row_create(cost="1.00")
    block = SpendBlock.objects.get()

    with CaptureQueriesContext(connection) as queries:
        listing = admin_client.get("/admin/portfolio/spendblock/")
        page = admin_client.get(f"/admin/portfolio/spendblock/{block.pk}/change/")

    assert listing.status_code == page.status_code == 200
    table = SpendBlock._meta.db_table
    reads = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert reads
    assert not [sql for sql in reads if f'"{table}"."data"' in sql]
