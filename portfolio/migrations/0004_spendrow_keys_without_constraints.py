# The spend row table's keys lose their database constraints and two redundant indexes: the
# ingest is the only writer, and per-row deferred constraint checks dominated load time.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0003_focus_conformance_units_fx'),
        ('scopes', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='spendrow',
            name='billing_slice',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='portfolio.billingslice'),
        ),
        migrations.AlterField(
            model_name='spendrow',
            name='delivery',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='portfolio.delivery'),
        ),
        migrations.AlterField(
            model_name='spendrow',
            name='technology_category',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='spend_rows', to='scopes.technologycategory'),
        ),
    ]
