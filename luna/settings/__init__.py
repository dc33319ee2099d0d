"""Settings split by concern; every value comes from the environment via `env`."""
from .base import *  # noqa: F401,F403
from .security import *  # noqa: F401,F403
from .databases import *  # noqa: F401,F403
from .celery import *  # noqa: F401,F403
from .flink import *  # noqa: F401,F403
from .investigation import *  # noqa: F401,F403
from .studio import *  # noqa: F401,F403
