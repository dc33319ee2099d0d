"""Pure correlation logic: no Flink, no Django. The Flink job, the late-data replay and the preview share it."""
