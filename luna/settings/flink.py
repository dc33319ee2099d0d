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
