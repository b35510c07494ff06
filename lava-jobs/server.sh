#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A local LAVA instance from Debian's packages (lava-server, lava-dispatcher,
# lava-coordinator, lavacli, postgresql), for lava-jobs/check.sh. It runs
# without systemd (CI is root with no init system): every daemon is started
# here directly, and "stop" ends exactly the processes that "start" started.
#
#   start   PostgreSQL (its first cluster; created if there is none), the
#           lava-server database (lava-server's own postinst.py: role,
#           database, migrations), then gunicorn (web UI and API on
#           127.0.0.1:PORT), lava-scheduler, lava-coordinator and lava-worker.
#           lavaserver.py registers the user, its API token, the worker, the
#           device types and devices (qemu-01 runs jobs under TCG; two board
#           stand-ins let the multinode job be scheduled). Idempotent: a second
#           start reuses what exists and restarts the daemons.
#   stop    stop the daemons started by "start", and PostgreSQL if "start"
#           started it.
#   status  print what runs.
#
# usage: lava-jobs/server.sh start|stop|status
# Environment: LAVA_SERVER_STATE (logs, pids, the env file; .cache/lava/server),
#   LAVA_SERVER_PORT (8000).
# "start" writes $LAVA_SERVER_STATE/env with LAVA_URI (lavacli's --uri, token
# included), LAVA_URL and LAVA_TOKEN. Needs root. Every failure is one line
# "lava-server: FAIL: ..." naming the log to read.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
state=${LAVA_SERVER_STATE:-$repo/.cache/lava/server}
port=${LAVA_SERVER_PORT:-8000}
py=/usr/bin/python3
manage=(/usr/bin/lava-server manage)
worker_name=lava-check-worker
daemons=(gunicorn scheduler coordinator worker)

say() { printf 'lava-server: %s\n' "$*"; }
fail() {
	printf 'lava-server: FAIL: %s\n' "$*" >&2
	exit 1
}
rel() { printf '%s\n' "${1#"$repo"/}"; }

# pid NAME: the live pid of a daemon that "start" recorded, or nothing.
pid_of() {
	local f=$state/$1.pid p
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	# The pid must still be the process we started (not a recycled one).
	if [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] &&
		tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "$(cat "$f.match")"; then
		echo "$p"
	fi
}

# stop_one NAME: TERM, then KILL after 20 s, the recorded process group.
stop_one() {
	local p n=0
	p=$(pid_of "$1")
	rm -f "$state/$1.pid" "$state/$1.pid.match"
	[ -n "$p" ] || return 0
	kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
	while [ -d "/proc/$p" ] && [ "$n" -lt 40 ]; do
		sleep 0.5
		n=$((n + 1))
	done
	if [ -d "/proc/$p" ]; then
		kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	fi
	say "stopped $1 (pid $p)"
}

# launch NAME MATCH CMD...: start CMD in its own session, output in NAME.log.
launch() {
	local name=$1 match=$2
	shift 2
	stop_one "$name"
	setsid "$@" >>"$state/$name.log" 2>&1 </dev/null &
	echo $! >"$state/$name.pid"
	printf '%s\n' "$match" >"$state/$name.pid.match"
}

# wait_for SECONDS WHAT LOG CMD...: retry CMD every 0.5 s.
wait_for() {
	local secs=$1 what=$2 log=$3 n=0
	shift 3
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -lt $((secs * 2)) ] || fail "$what not ready after ${secs}s (see $(rel "$log"))"
		sleep 0.5
	done
}

pg_cluster() { # prints "VERSION NAME STATUS" of the first cluster
	pg_lsclusters -h 2>/dev/null | awk 'NR == 1 { print $1, $2, $4 }'
}

start_postgres() {
	local ver name status log=$state/postgresql.log
	read -r ver name status <<<"$(pg_cluster)" || true
	if [ -z "${ver:-}" ]; then
		ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -1)
		[ -n "$ver" ] || fail "PostgreSQL is not installed (run 'make setup')"
		say "creating PostgreSQL cluster $ver/main"
		pg_createcluster "$ver" main >>"$log" 2>&1 || fail "pg_createcluster $ver main failed (see $(rel "$log"))"
		name=main status=down
	fi
	if [ "$status" != online ]; then
		pg_ctlcluster "$ver" "$name" start >>"$log" 2>&1 ||
			fail "cannot start PostgreSQL $ver/$name (see $(rel "$log") and /var/log/postgresql/)"
		echo "$ver $name" >"$state/postgresql.started"
		say "PostgreSQL $ver/$name started"
	elif [ -f "$state/postgresql.started" ]; then
		say "PostgreSQL $ver/$name already running (an earlier start started it: stopped at stop)"
	else
		say "PostgreSQL $ver/$name already running (left running at stop)"
	fi
	wait_for 30 PostgreSQL "$log" pg_isready -q
}

api_up() { "$py" - "$1" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

worker_online() {
	# shellcheck source=/dev/null
	. "$state/env"
	lavacli --uri "$LAVA_URI" workers show "$worker_name" 2>/dev/null | grep -q '^state *: Online'
}

do_start() {
	local t0 log
	t0=$(date +%s)
	[ "$(id -u)" -eq 0 ] || fail "needs root (it starts PostgreSQL and the LAVA daemons)"
	local c
	for c in /usr/bin/lava-server /usr/bin/gunicorn3 /usr/bin/lava-worker /usr/bin/lava-coordinator \
		/usr/bin/lavacli /usr/bin/pg_ctlcluster; do
		[ -x "$c" ] || fail "$c is missing: run 'make setup' (it installs lava-server, lava-dispatcher, lava-coordinator, lavacli, postgresql)"
	done
	mkdir -p "$state"
	if "$py" - "$port" <<'EOF'; then
import socket, sys
s = socket.socket()
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
		[ -n "$(pid_of gunicorn)" ] ||
			fail "port $port is taken by another program: set LAVA_SERVER_PORT, or stop it"
	fi
	start_postgres

	log=$state/postinst.log
	say "database: lava-server's postinst.py (role, database, migrations) ... log: $(rel "$log")"
	"$py" /usr/share/lava-server/postinst.py >"$log" 2>&1 ||
		fail "lava-server's postinst.py failed (see $(rel "$log"))"

	log=$state/setup.log
	say "registering user, token, worker, device types and devices ... log: $(rel "$log")"
	"$py" "$here/lavaserver.py" setup --repo "$repo" --state "$state" --port "$port" \
		--worker "$worker_name" >"$log" 2>&1 ||
		fail "lavaserver.py setup failed (see $(rel "$log"))"
	chmod 600 "$state/env"
	# shellcheck source=/dev/null
	. "$state/env"

	launch gunicorn "lava_server.wsgi" /usr/bin/gunicorn3 lava_server.wsgi --log-level INFO \
		--log-file "$state/gunicorn.log" -u lavaserver -g lavaserver --worker-class eventlet \
		--workers 2 --bind "127.0.0.1:$port" --timeout 120
	wait_for 60 "lava-server's API (gunicorn on 127.0.0.1:$port)" "$state/gunicorn.log" \
		api_up "${LAVA_URL}api/v0.2/system/version/"
	launch scheduler "lava-scheduler" "${manage[@]}" lava-scheduler --level INFO \
		--log-file "$state/scheduler.log"
	launch coordinator "lava-coordinator" /usr/bin/lava-coordinator --loglevel INFO \
		--logfile "$state/coordinator.log"
	mkdir -p "$state/worker-dir"
	launch worker "lava-worker" /usr/bin/lava-worker --level INFO --url "$LAVA_URL" \
		--token-file "$state/worker.token" --name "$worker_name" \
		--worker-dir "$state/worker-dir" --log-file "$state/worker.log"
	wait_for 60 "the worker ($worker_name online)" "$state/worker.log" worker_online
	local name
	for name in "${daemons[@]}"; do
		[ -n "$(pid_of "$name")" ] || fail "$name exited at start (see $(rel "$state/$name.log"))"
	done
	say "up in $(($(date +%s) - t0))s: API ${LAVA_URL}RPC2, worker $worker_name online, logs in $(rel "$state")"
}

do_stop() {
	local i ver name
	for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
		stop_one "${daemons[i]}"
	done
	if [ -f "$state/postgresql.started" ]; then
		read -r ver name <"$state/postgresql.started"
		pg_ctlcluster "$ver" "$name" stop >>"$state/postgresql.log" 2>&1 ||
			say "warning: cannot stop PostgreSQL $ver/$name (see $(rel "$state/postgresql.log"))"
		rm -f "$state/postgresql.started"
		say "PostgreSQL $ver/$name stopped"
	fi
}

do_status() {
	local name p rc=0
	for name in "${daemons[@]}"; do
		p=$(pid_of "$name")
		if [ -n "$p" ]; then say "$name: running (pid $p)"; else say "$name: not running" && rc=1; fi
	done
	say "PostgreSQL: $(pg_cluster)"
	return "$rc"
}

case ${1:-} in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*)
	echo "usage: lava-jobs/server.sh start|stop|status" >&2
	exit 2
	;;
esac
