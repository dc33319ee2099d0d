"""Investigation: the read-only ad-hoc SQL of editors."""
from .env import env

# The database alias ad-hoc queries run on: in production an alias whose user has SELECT on the luna_* tables only
# (and, on TiDB, reads TiFlash); every query also runs in a read-only transaction and on an identifier deny-list.
LUNA_ADHOC_DB_ALIAS = env.str("LUNA_ADHOC_DB_ALIAS", default="default")
LUNA_ADHOC_MAX_ROWS = env.int("LUNA_ADHOC_MAX_ROWS", default=1000)
LUNA_ADHOC_TIMEOUT_MS = env.int("LUNA_ADHOC_TIMEOUT_MS", default=5000)
