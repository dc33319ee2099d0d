"""Entry point: `python -m jobs.sessionize.main --config run.json` (mini-cluster) or
`flink run -py jobs/sessionize/main.py --config run.json` (standalone cluster)."""
import argparse
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # `flink run -py jobs/sessionize/main.py` executes this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "jobs.sessionize"

from pyflink.common import Configuration  # noqa: E402
from pyflink.datastream import CheckpointingMode, StreamExecutionEnvironment  # noqa: E402

from jobs.sessionize.config import JobConfig  # noqa: E402
from jobs.sessionize.pipeline import build  # noqa: E402

# A backfill's network buffers: 8× Flink's 32 KB. A channel holds ~10 buffers, so with 32 KB the assembly could run
# only ~100 revisions ahead of the sink and stood still while the sink waited on the database (the two Python
# operators took turns); with 256 KB it keeps working through a sink batch, the sources run ahead, and a session's
# revisions arrive close enough together to fold into one (RevisionBatches). Measured at 20k orders: Python CPU
# 38 → 21 s, 95–110 → 83–85 s (docs/BENCHMARKS.md). Live runs keep Flink's default: in-flight data delays their
# checkpoint barriers and they are not throughput-bound. A standalone cluster takes it from its own configuration.
BACKFILL_SEGMENT = "256kb"


def make_env(config: JobConfig) -> StreamExecutionEnvironment:
    """Python's execution mode (config.python_mode), checkpoints, restarts."""
    conf = Configuration()
    conf.set_string("python.execution-mode", config.python_mode)
    if config.python_mode == "process":  # one worker process per Python operator (managed memory shares one per slot)
        conf.set_string("python.fn-execution.memory.managed", "false")
    conf.set_string("python.executable", sys.executable)
    conf.set_string("python.client.executable", sys.executable)
    conf.set_string("pipeline.name", config.job_name)
    if config.kafka.get("connector_jar"):  # flink-sql-connector-kafka, shipped with the job
        conf.set_string("pipeline.jars", "file://" + os.path.abspath(config.kafka["connector_jar"]))
    if config.bounded:  # a backfill that fails should say why at once, not retry for minutes
        conf.set_string("restart-strategy.type", "none")
    else:
        conf.set_string("restart-strategy.type", "exponential-delay")
        conf.set_string("restart-strategy.exponential-delay.initial-backoff", "1 s")
        conf.set_string("restart-strategy.exponential-delay.max-backoff", "30 s")
        conf.set_string("restart-strategy.exponential-delay.attempts-before-reset-backoff", "10")
        # Keep the last checkpoint when the job fails or is cancelled: Luna's monitor and the console's Restart
        # resubmit from it (operations/services/job_monitor.py).
        conf.set_string("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    if config.bounded:  # see BACKFILL_SEGMENT
        conf.set_string("taskmanager.memory.segment-size", BACKFILL_SEGMENT)
    if config.checkpoint_dir:
        conf.set_string("execution.checkpointing.dir", config.checkpoint_dir)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(config.parallelism)
    if config.buffer_timeout_ms is not None:  # each keyed hand-off waits up to this long to fill a network buffer
        env.set_buffer_timeout(config.buffer_timeout_ms)
    env.get_config().set_auto_watermark_interval(200)  # periodic watermarks; 0 would disable them
    if config.checkpoint_interval_ms and not config.bounded:
        env.enable_checkpointing(config.checkpoint_interval_ms, CheckpointingMode.EXACTLY_ONCE)
    return env


def run(config: JobConfig, detached: bool = False) -> None:
    env = make_env(config)
    build(env, config)
    if detached:
        env.execute_async(config.job_name)
    else:
        env.execute(config.job_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Luna sessionize job")
    parser.add_argument("--config", required=True, help="JobConfig JSON written by the platform")
    parser.add_argument("--detached", action="store_true", help="submit and return (cluster mode)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    run(JobConfig.load(args.config), detached=args.detached)


if __name__ == "__main__":
    main()
