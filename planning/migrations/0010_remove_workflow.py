"""Issue #13, last step: the Workflow table, now split into Season and Run (0007-0009), goes."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("planning", "0009_season_foreign_keys")]

    operations = [migrations.DeleteModel(name="Workflow")]
