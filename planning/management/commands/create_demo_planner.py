"""Create (or reset) the demo planner account. The password comes from DEMO_PASSWORD, or is
generated and printed once."""
import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from planning.roles import PLANNER, add_to_role


class Command(BaseCommand):
    help = "Create the demo planner account 'planner' (password from DEMO_PASSWORD or generated)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="planner")

    def handle(self, *args, username, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        password = os.environ.get("DEMO_PASSWORD")
        if not password and not created and user.has_usable_password():
            self.stdout.write(f"Demo planner '{username}' exists; password unchanged.")
            add_to_role(user, PLANNER)
            return
        generated = not password
        password = password or secrets.token_urlsafe(9)
        user.set_password(password)
        user.save()
        add_to_role(user, PLANNER)
        self.stdout.write(f"Demo planner '{username}' is ready.")
        if generated:
            self.stdout.write(f"Generated password (shown once): {password}")
