from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from planning.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it (on the last line, shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for")

    def handle(self, *args, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        token, raw = ApiToken.issue(user, name)
        self.stdout.write(f"Created token {token.key_prefix}… for {user.username}. Use it as")
        self.stdout.write("Authorization: Bearer <token>")
        self.stdout.write(raw)
