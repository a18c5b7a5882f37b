"""Stored countries become ISO 3166-1 alpha-2 codes, as the ingestion service now writes them.

Every recognised spelling ("Germany", "Deutschland", "UK", "usa" ...) is replaced by its code; a value
that names no country is kept as written. One UPDATE per distinct spelling, not per row. Reversing
leaves the codes in place (the spellings they replaced are not kept).
"""

from django.db import migrations

#: (model, field) pairs holding a country.
COUNTRY_FIELDS = (("Customer", "country"), ("Order", "ship_country"))


def convert_country_values(apps, schema_editor):
    from wagtail_customers.countries import country_code

    for model_name, field_name in COUNTRY_FIELDS:
        model = apps.get_model("wagtail_customers", model_name)
        spellings = model.objects.exclude(**{field_name: ""}).order_by().values_list(field_name, flat=True).distinct()
        for spelling in list(spellings):
            code = country_code(spelling)
            if code and code != spelling:
                model.objects.filter(**{field_name: spelling}).update(**{field_name: code})


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_customers", "0005_private_files"),
    ]

    operations = [
        migrations.RunPython(convert_country_values, migrations.RunPython.noop, elidable=True),
    ]
