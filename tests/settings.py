"""Settings for the suite: Luna's own, plus a secret key for runs against a server database (DATABASE_URL set),
where Luna refuses to start without one. Set here, in the environment, so the suite's Celery workers and
probe subprocesses inherit it."""
import os

os.environ.setdefault("LUNA_SECRET_KEY", "luna-test-suite-only-key-" + "0123456789abcdefghijklmnopqrstuvwxyz")

from luna.settings import *  # noqa: E402,F401,F403

# Counts and selectivity are not remembered between requests here (tests that change rows would meet old figures);
# tests/test_counting.py turns it on where it is the subject.
LUNA_COUNT_CACHE_S = 0

# The columnar replica's files go to a directory of the run's own (tests that build files set their own).
import tempfile  # noqa: E402

LUNA_FACT_REPLICA_DIR = tempfile.mkdtemp(prefix="luna-replica-")
