"""Two foreign keys lose an index of their own: the unique index that leads with the same column serves
every lookup by it (``attempt`` by ``user``: attempt_number_unique; attempt question by ``attempt``:
attemptquestion_one_per_position). A start writes an attempt and 20 questions: 21 index entries fewer."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('questions', '0007_storedvariant'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='attempt',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='attemptquestion',
            name='attempt',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='questions', to='questions.attempt', verbose_name='attempt'),
        ),
    ]
