"""Give a fresh installation its first LTI tool key pair (rotate with ``manage.py rotate_keys``)."""

from django.db import migrations


def create_first_key(apps, schema_editor):
    Key = apps.get_model("lti_tool", "Key")
    if Key.objects.filter(is_active=True).exists():
        return
    from jwcrypto.jwk import JWK

    key = JWK.generate(kty="RSA", size=2048)
    Key.objects.create(
        public_key=key.export_to_pem().decode(),
        private_key=key.export_to_pem(private_key=True, password=None).decode(),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("lti", "0001_initial"),
        ("lti_tool", "0008_ltideployment_pns_url_and_more"),
    ]

    operations = [migrations.RunPython(create_first_key, migrations.RunPython.noop)]
