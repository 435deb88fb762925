# Chunked, parallel ingest: chunk bookkeeping on the delivery and one row per chunk.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='delivery',
            name='chunk_rows',
            field=models.PositiveIntegerField(default=0, help_text='Rows per chunk the delivery is split into; 0 until planned.'),
        ),
        migrations.AddField(
            model_name='delivery',
            name='chunks_total',
            field=models.PositiveIntegerField(blank=True, null=True, help_text='Number of chunks, known once every file was read.'),
        ),
        migrations.CreateModel(
            name='DeliveryChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveIntegerField(help_text='Position of the chunk in the delivery.')),
                ('file_index', models.PositiveSmallIntegerField(help_text='Index in delivery.files.')),
                ('first_row', models.PositiveBigIntegerField(help_text='Data row number of its first row.')),
                ('row_count', models.PositiveBigIntegerField(default=0)),
                ('rows_loaded', models.PositiveBigIntegerField(default=0)),
                ('rows_rejected', models.PositiveBigIntegerField(default=0)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('done', 'Done'), ('rejected', 'Rejected'), ('skipped', 'Skipped')], default='queued', max_length=10)),
                ('worker', models.CharField(blank=True, help_text='Host that loaded it.', max_length=200)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('warnings', models.JSONField(blank=True, default=list)),
                ('errors', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='portfolio.delivery')),
            ],
            options={
                'ordering': ['delivery', 'index'],
                'constraints': [models.UniqueConstraint(fields=('delivery', 'index'), name='chunk_unique_in_delivery')],
            },
        ),
    ]
