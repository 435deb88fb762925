"""Create the persona groups (executive, practitioner, finance) that permissions rely on."""

from django.db import migrations

PERSONAS = ("executive", "practitioner", "finance")


def groups_create(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in PERSONAS:
        group_model.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("scopes", "0001_initial"),
    ]

    operations = [migrations.RunPython(groups_create, migrations.RunPython.noop)]
