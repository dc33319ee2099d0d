"""Flink: where jobs run and how they checkpoint."""
from .env import VAR_DIR, env

# "local" runs a job in a mini-cluster inside the launching process; otherwise the REST URL of a cluster.
LUNA_FLINK_TARGET = env.str("LUNA_FLINK_TARGET", default="local")
LUNA_FLINK_CHECKPOINT_INTERVAL = env.str("LUNA_FLINK_CHECKPOINT_INTERVAL", default="10s")
LUNA_FLINK_CHECKPOINT_DIR = env.str("LUNA_FLINK_CHECKPOINT_DIR", default=f"file://{VAR_DIR / 'flink' / 'checkpoints'}")
LUNA_FLINK_PARALLELISM = env.int("LUNA_FLINK_PARALLELISM", default=1)
# Where template sources with a relative `location` live (demo data is written here).
LUNA_DATA_DIR = env.str("LUNA_DATA_DIR", default=str(VAR_DIR / "data"))

# A cluster Luna starts itself from the apache-flink package (`manage.py flink_cluster start`).
LUNA_FLINK_REST_PORT = env.int("LUNA_FLINK_REST_PORT", default=8081)
LUNA_FLINK_RPC_PORT = env.int("LUNA_FLINK_RPC_PORT", default=6123)
LUNA_FLINK_SLOTS = env.int("LUNA_FLINK_SLOTS", default=4)

# Job operations (Celery tasks + the monitor, see sessions/services/job_control.py and job_monitor.py).
LUNA_FLINK_SAVEPOINT_DIR = env.str("LUNA_FLINK_SAVEPOINT_DIR", default=f"file://{VAR_DIR / 'flink' / 'savepoints'}")
# A failed job is resubmitted from its latest checkpoint after BACKOFF, doubling up to BACKOFF_MAX, at most
# LIMIT times in a row; a run that stays up for RESET starts counting afresh.
LUNA_JOB_RESTART_LIMIT = env.int("LUNA_JOB_RESTART_LIMIT", default=5)
LUNA_JOB_RESTART_BACKOFF = env.str("LUNA_JOB_RESTART_BACKOFF", default="10s")
LUNA_JOB_RESTART_BACKOFF_MAX = env.str("LUNA_JOB_RESTART_BACKOFF_MAX", default="5m")
LUNA_JOB_RESTART_RESET = env.str("LUNA_JOB_RESTART_RESET", default="30m")
