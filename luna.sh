#!/usr/bin/env bash
# Luna's two entry points (see README):
#   ./luna.sh up     start web, Celery worker, Flink cluster, demo data and the job (embedded SQLite default)
#   ./luna.sh test   run the test suite (MariaDB through PyMySQL, Redis, Flink, Chromium; started if needed)
# Also: ./luna.sh down (stop what `up` started), ./luna.sh deps (only install Python packages).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export LUNA_VAR_DIR="${LUNA_VAR_DIR:-$ROOT/var}"
RUN_DIR="$LUNA_VAR_DIR/run"
PORT="${LUNA_PORT:-8000}"

log() { printf '\033[1m[luna]\033[0m %s\n' "$*"; }

deps() {
  if [ ! -x "$PY" ]; then
    log "creating virtualenv .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.requirements.sha"
  local want; want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Python packages (first run takes a few minutes: Flink, Django, Celery ...)"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r requirements.txt
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"   # thread-mode PyFlink finds pemja through the venv first on PATH
  command -v java >/dev/null || { echo "Java 17 is required for Flink (apt-get install openjdk-17-jre-headless)"; exit 1; }
  apt_install javac openjdk-17-jdk-headless   # the job's session state machine is Java (jobs/sessionize/jvm)
  "$PY" -c "from jobs.sessionize.jvm import ensure_jar; ensure_jar()"   # javac → var/jvm/luna-sessionize.jar when stale
}

apt_install() {  # apt_install <command-to-check> <package>...
  local check=$1; shift
  if ! command -v "$check" >/dev/null 2>&1 && [ ! -x "$check" ]; then
    [ "$(id -u)" = 0 ] || { echo "please install: $*"; exit 1; }
    log "installing $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

test_services() {
  # MariaDB (tests run against a real MySQL-protocol server) and Redis (Celery broker).
  if [ -z "${DATABASE_URL:-}" ]; then
    apt_install mariadbd mariadb-server
    if ! mysqladmin ping --silent 2>/dev/null; then
      log "starting MariaDB"
      (service mariadb start || service mysql start) >/dev/null
      for _ in $(seq 1 30); do mysqladmin ping --silent 2>/dev/null && break; sleep 1; done
    fi
    mysql -uroot -e "CREATE USER IF NOT EXISTS 'luna'@'localhost' IDENTIFIED BY 'luna';
      CREATE USER IF NOT EXISTS 'luna'@'127.0.0.1' IDENTIFIED BY 'luna';
      GRANT ALL ON *.* TO 'luna'@'localhost'; GRANT ALL ON *.* TO 'luna'@'127.0.0.1';
      CREATE DATABASE IF NOT EXISTS luna CHARACTER SET utf8mb4;"
    # The package default buffer pool (128 MB) no longer holds the session indexes past a few hundred thousand
    # sessions (measured: the sink and the fact scans then wait on disk). A quarter of memory, at most 4 GB;
    # resized online, never shrunk.
    local pool=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) * 1024 / 4 ))
    [ "$pool" -gt 4294967296 ] && pool=4294967296
    mysql -uroot -e "SET GLOBAL innodb_buffer_pool_size = GREATEST(@@innodb_buffer_pool_size, $pool)" || true
    export DATABASE_URL="mysql://luna:luna@127.0.0.1:3306/luna"
  fi
  if [ -z "${CELERY_BROKER_URL:-}" ]; then
    apt_install redis-server redis-server
    redis-cli ping >/dev/null 2>&1 || { log "starting Redis"; redis-server --daemonize yes >/dev/null; sleep 1; }
    export CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
  fi
  apt_install /usr/bin/chromium chromium
}

run_tests() {
  deps
  test_services
  log "running tests against ${DATABASE_URL%%@*}@… (broker ${CELERY_BROKER_URL})"
  set +e
  "$PY" -m pytest "$@"
  local status=$?
  set -e
  if [ "$status" = 5 ]; then
    echo "pytest collected no tests: treating as a failure"; exit 1
  fi
  exit "$status"
}

start_bg() {  # start_bg <name> <command...>
  local name=$1; shift
  mkdir -p "$RUN_DIR"
  if [ -f "$RUN_DIR/$name.pid" ] && kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then return; fi
  nohup "$@" > "$RUN_DIR/$name.log" 2>&1 &
  echo $! > "$RUN_DIR/$name.pid"
}

wait_for_job_running() {
  local url="http://localhost:${LUNA_FLINK_REST_PORT:-8081}/jobs/overview"
  for _ in $(seq 1 60); do
    curl -s "$url" | grep -q '"state":"RUNNING"' && { sleep 5; return; }
    sleep 1
  done
  log "the job is not RUNNING yet; see the Jobs page"
}

up() {
  deps
  local manage=("$PY" manage.py)
  log "database: migrate"
  "${manage[@]}" migrate -v0
  "${manage[@]}" collectstatic --noinput -v0
  "${manage[@]}" create_luna_user admin --password luna-admin --role admin >/dev/null
  "${manage[@]}" create_luna_user analyst --password luna-analyst --role viewer >/dev/null
  if [ ! -f "$LUNA_VAR_DIR/data/mobile-pay/expected.jsonl" ]; then
    log "demo data: writing ${LUNA_DEMO_ORDERS:-2000} orders of payment-flow logs"
    "${manage[@]}" demo_data --orders "${LUNA_DEMO_ORDERS:-2000}"
  fi
  log "Flink: starting the standalone cluster (apache-flink package scripts)"
  "${manage[@]}" flink_cluster start
  # Before the monitor starts: a run left from the last `up` is resumed from its savepoint/checkpoint (and says
  # so) or started clean; its dead Flink job id is never reported or "recovered".
  log "Flink: the mobile-pay job (continuous: new files are picked up)"
  "${manage[@]}" job_resume mobile-pay --target "http://localhost:${LUNA_FLINK_REST_PORT:-8081}"
  log "Celery: starting a worker with beat (the job monitor polls the cluster every 10 s)"
  start_bg celery "$VENV/bin/celery" -A luna worker --beat --loglevel INFO --concurrency 2
  # The file source reads files in no particular order: let its first scan take the backlog before live
  # files (newer events) appear, or the backlog's first hours would be late (queued and replayed, not lost).
  wait_for_job_running
  start_bg live "${manage[@]}" demo_data --live 7200 --orders 0 --no-import
  # A production web server (runserver stays a development tool): gunicorn, static files from WhiteNoise (collected
  # above); workers, worker class and the per-worker warm-up are in luna/gunicorn_conf.py.
  start_bg web "$VENV/bin/gunicorn" luna.wsgi:application -c python:luna.gunicorn_conf --bind "0.0.0.0:$PORT" \
    --access-logfile - --error-logfile -
  for _ in $(seq 1 30); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login/" && break; sleep 1; done
  cat <<MSG

  Luna is up:   http://localhost:$PORT/
  Log in:       admin / luna-admin   (viewer: analyst / luna-analyst)
  Flink UI:     http://localhost:${LUNA_FLINK_REST_PORT:-8081}/
  Sessions appear within seconds as the job reads the demo logs; try the search for conclusion "Paid but not delivered".
  Stop with:    ./luna.sh down

MSG
}

down() {
  if [ -x "$PY" ]; then
    log "Flink: stopping running jobs with a savepoint (the next up resumes from it)"
    "$PY" manage.py job_resume --stop-all || true
  fi
  for name in web live job celery; do
    if [ -f "$RUN_DIR/$name.pid" ]; then kill "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || true; rm -f "$RUN_DIR/$name.pid"; fi
  done
  [ -x "$PY" ] && "$PY" manage.py flink_cluster stop || true
  log "stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  test) shift; run_tests "$@" ;;
  deps) deps ;;
  *) echo "usage: ./luna.sh up | down | test [pytest args] | deps"; exit 2 ;;
esac
