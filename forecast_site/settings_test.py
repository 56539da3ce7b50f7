"""Settings of the test suite (pytest.ini): the local demo's DEBUG=1 unless the environment says
otherwise, then the real settings. Processes the tests start inherit it through the environment."""
import os

os.environ.setdefault("DEBUG", "1")

from forecast_site.settings import *  # noqa: E402,F403
