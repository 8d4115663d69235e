"""Each attempt question's variant moves to a table of its own, ``StoredVariant``, written ahead of time.

A start used to write 20 × (public payload + whole variant), about 110 KB, in its request; the pool
filler now writes the variants beforehand and a start writes 20 small rows pointing at them. Existing
questions keep what they showed: their payloads are copied over as they are (a shuffled question's
choices stay in their stored order, so ``choice_order`` is left empty). Reversible.
"""

import secrets

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import questions.models
import questions.variant_store

BATCH = 500


def _copy_out(apps, schema_editor):  # type: ignore[no-untyped-def]
    question_model = apps.get_model("questions", "AttemptQuestion")
    stored_model = apps.get_model("questions", "StoredVariant")
    alias = schema_editor.connection.alias
    pending = question_model.objects.using(alias).filter(stored__isnull=True).order_by("pk")
    while batch := list(pending[:BATCH]):
        rows = []
        for question in batch:
            row = stored_model(
                id=secrets.randbits(62),
                family=question.family,
                seed=question.seed,
                difficulty=question.difficulty,
                engine_version=question.engine_version,
                public=question.public,
                variant=question.variant,
            )
            rows.append(row)
            question.stored_id = row.id
        stored_model.objects.using(alias).bulk_create(rows)
        question_model.objects.using(alias).bulk_update(batch, ["stored"])


def _copy_back(apps, schema_editor):  # type: ignore[no-untyped-def]
    question_model = apps.get_model("questions", "AttemptQuestion")
    alias = schema_editor.connection.alias
    pending = question_model.objects.using(alias).filter(public__isnull=True).select_related("stored")
    while batch := list(pending.order_by("pk")[:BATCH]):
        for question in batch:
            public = question.stored.public
            if question.choice_order:
                public = questions.models.choices_ordered(public, question.choice_order)
            question.public, question.variant = public, question.stored.variant
        question_model.objects.using(alias).bulk_update(batch, ["public", "variant"])


def _lz4(apps, schema_editor):  # type: ignore[no-untyped-def]
    """PostgreSQL 14+: LZ4 for the two JSON columns, as 0006 did for the old ones (faster to write)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'")
        if cursor.fetchone() is None:
            return
    table = schema_editor.quote_name("questions_storedvariant")
    alters = ", ".join(
        f"ALTER COLUMN {schema_editor.quote_name(c)} SET COMPRESSION lz4" for c in ("public", "variant")
    )
    schema_editor.execute(f"ALTER TABLE {table} {alters}")


class Migration(migrations.Migration):
    dependencies = [("questions", "0006_attemptquestion_lz4")]

    operations = [
        migrations.CreateModel(
            name="StoredVariant",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        default=questions.models.stored_variant_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("family", models.CharField(max_length=64, verbose_name="question family")),
                ("seed", models.BigIntegerField(verbose_name="seed")),
                (
                    "difficulty",
                    models.CharField(
                        choices=[("easy", "easy"), ("medium", "medium"), ("hard", "hard")],
                        max_length=8,
                        verbose_name="difficulty",
                    ),
                ),
                ("engine_version", models.CharField(max_length=32, verbose_name="engine version")),
                ("public", questions.variant_store.VariantJSONField(verbose_name="public payload")),
                ("variant", questions.variant_store.VariantJSONField(verbose_name="stored variant")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at"),
                ),
            ],
            options={
                "verbose_name": "stored variant",
                "verbose_name_plural": "stored variants",
                "indexes": [models.Index(fields=["created_at"], name="storedvariant_created")],
            },
        ),
        migrations.RunPython(_lz4, migrations.RunPython.noop),
        migrations.AddField(
            model_name="attemptquestion",
            name="stored",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="question",
                to="questions.storedvariant",
                verbose_name="stored variant",
            ),
        ),
        migrations.AddField(
            model_name="attemptquestion",
            name="choice_order",
            field=models.JSONField(blank=True, null=True, verbose_name="choice order"),
        ),
        migrations.AlterField(
            model_name="attemptquestion",
            name="public",
            field=questions.variant_store.VariantJSONField(null=True, verbose_name="public payload"),
        ),
        migrations.AlterField(
            model_name="attemptquestion",
            name="variant",
            field=questions.variant_store.VariantJSONField(null=True, verbose_name="stored variant"),
        ),
        migrations.RunPython(_copy_out, _copy_back),
        migrations.AlterField(
            model_name="attemptquestion",
            name="stored",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="question",
                to="questions.storedvariant",
                verbose_name="stored variant",
            ),
        ),
        migrations.RemoveField(model_name="attemptquestion", name="public"),
        migrations.RemoveField(model_name="attemptquestion", name="variant"),
    ]
