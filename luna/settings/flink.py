"""Flink: where jobs run and how they checkpoint."""
from .env import VAR_DIR, env

# "local" runs a job in a mini-cluster inside the launching process; otherwise the REST URL of a cluster.
LUNA_FLINK_TARGET = env.str("LUNA_FLINK_TARGET", default="local")
LUNA_FLINK_CHECKPOINT_INTERVAL = env.str("LUNA_FLINK_CHECKPOINT_INTERVAL", default="10s")
LUNA_FLINK_CHECKPOINT_DIR = env.str("LUNA_FLINK_CHECKPOINT_DIR", default=f"file://{VAR_DIR / 'flink' / 'checkpoints'}")
LUNA_FLINK_PARALLELISM = env.int("LUNA_FLINK_PARALLELISM", default=1)
# Backfills (bounded runs), apart from live runs (LUNA_FLINK_PARALLELISM). 1 by default: on 2 cores p = 2 was 24–45 %
# faster at 20k orders but 37 % slower at 1 M events (smaller sink batches, more Python CPU a revision; docs/BENCHMARKS.md).
LUNA_FLINK_BACKFILL_PARALLELISM = env.int("LUNA_FLINK_BACKFILL_PARALLELISM", default=1)
# Backfills of inputs up to this size hold event time until their end, so their sessions never depend on read order.
LUNA_DETERMINISTIC_BACKFILL_MAX_MB = env.int("LUNA_DETERMINISTIC_BACKFILL_MAX_MB", default=512)
# Where the session mechanics run: "jvm" (the Java twins of the reference machines, jobs/sessionize/jvm; Python parses
# and assembles only) or "python" (the reference machines in embedded Python). See docs/ARCHITECTURE.md.
LUNA_SESSION_ENGINE = env.str("LUNA_SESSION_ENGINE", default="jvm")
# Published template versions for hot update (operations/services/rollout.py) live under LUNA_VAR_DIR/jobs.
LUNA_VAR_DIR = str(VAR_DIR)
# Live jobs: how often sources look for new files, how long the sink buffers, Flink's network buffer timeout.
# 200 ms / 100 ms / 10 ms give early-fired sessions p95 0.6–0.8 s from file to row (bench/freshness.py).
LUNA_SOURCE_MONITOR_INTERVAL = env.str("LUNA_SOURCE_MONITOR_INTERVAL", default="200ms")
LUNA_SINK_FLUSH_INTERVAL_MS = env.int("LUNA_SINK_FLUSH_INTERVAL_MS", default=100)
LUNA_FLINK_BUFFER_TIMEOUT_MS = env.int("LUNA_FLINK_BUFFER_TIMEOUT_MS", default=10)
# Production input: Kafka topics instead of directories when a bootstrap server is configured (the topic is a
# source's `topic`, else its name); the flink-sql-connector-kafka jar is shipped with the job.
LUNA_KAFKA_BOOTSTRAP_SERVERS = env.str("LUNA_KAFKA_BOOTSTRAP_SERVERS", default="")
LUNA_KAFKA_CONNECTOR_JAR = env.str("LUNA_KAFKA_CONNECTOR_JAR", default="")
LUNA_KAFKA_GROUP_ID = env.str("LUNA_KAFKA_GROUP_ID", default="luna-sessionize")
# Where template sources with a relative `location` live (demo data is written here).
LUNA_DATA_DIR = env.str("LUNA_DATA_DIR", default=str(VAR_DIR / "data"))
# Roots a source `location` may point into (paths, or URI prefixes such as s3://bucket/logs); empty: the data dir.
LUNA_SOURCE_ROOTS = env.list("LUNA_SOURCE_ROOTS", default=[])

# A cluster Luna starts itself from the apache-flink package (`manage.py flink_cluster start`).
LUNA_FLINK_REST_PORT = env.int("LUNA_FLINK_REST_PORT", default=8081)
LUNA_FLINK_RPC_PORT = env.int("LUNA_FLINK_RPC_PORT", default=6123)
LUNA_FLINK_SLOTS = env.int("LUNA_FLINK_SLOTS", default=4)
# Thread mode runs Python inside each TaskManager's JVM, one interpreter (one GIL) per TaskManager: Python work
# scales with TaskManagers, not slots. Pair LUNA_FLINK_TASKMANAGERS=N with LUNA_FLINK_PARALLELISM=N.
LUNA_FLINK_TASKMANAGERS = env.int("LUNA_FLINK_TASKMANAGERS", default=1)

# Job operations (Celery tasks + the monitor, see operations/services/job_control.py and job_monitor.py).
LUNA_FLINK_SAVEPOINT_DIR = env.str("LUNA_FLINK_SAVEPOINT_DIR", default=f"file://{VAR_DIR / 'flink' / 'savepoints'}")
# A failed job is resubmitted from its latest checkpoint after BACKOFF, doubling up to BACKOFF_MAX, at most
# LIMIT times in a row; a run that stays up for RESET starts counting afresh.
LUNA_JOB_RESTART_LIMIT = env.int("LUNA_JOB_RESTART_LIMIT", default=5)
LUNA_JOB_RESTART_BACKOFF = env.str("LUNA_JOB_RESTART_BACKOFF", default="10s")
LUNA_JOB_RESTART_BACKOFF_MAX = env.str("LUNA_JOB_RESTART_BACKOFF_MAX", default="5m")
LUNA_JOB_RESTART_RESET = env.str("LUNA_JOB_RESTART_RESET", default="30m")
