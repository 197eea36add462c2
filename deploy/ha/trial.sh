#!/usr/bin/env bash
# A pg_auto_failover set on this one machine, for trial and for make ha-test:
# a monitor and two PostgreSQL 15 nodes (a primary and a synchronous standby)
# on loopback, each under its own `pg_autoctl run`. See deploy/ha/README.md.
#
#   deploy/ha/trial.sh up       create and start the set, the healthrec roles and database
#   deploy/ha/trial.sh env      print DATABASE_URL / DATABASE_OWNER_URL (multi-host) for healthrec
#   deploy/ha/trial.sh state    pg_autoctl show state
#   deploy/ha/trial.sh primary  print the name of the current primary (node1 or node2)
#   deploy/ha/trial.sh kill NODE   kill -9 the node's pg_autoctl and postmaster: the machine is lost
#   deploy/ha/trial.sh down     stop everything and remove HA_DIR
#
# Settings: HA_DIR (default /tmp/healthrec-ha), HA_PORT (monitor; the nodes
# take the next two, default 5440), PG_BIN (default /usr/lib/postgresql/15/bin).
# Runs as root (the servers then run as the postgres user) or as the user
# that owns HA_DIR. Every TCP connection authenticates with scram-sha-256;
# only the OS user running the servers connects through the Unix socket (peer).
set -euo pipefail

HA_DIR=${HA_DIR:-/tmp/healthrec-ha}
HA_PORT=${HA_PORT:-5440}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MON_PORT=$HA_PORT
NODE_PORTS=($((HA_PORT + 1)) $((HA_PORT + 2)))
SOCK=/var/run/postgresql # where Debian's PostgreSQL puts its socket, and pg_autoctl looks

# pg_autoctl keeps its configuration and state under XDG_CONFIG_HOME and
# XDG_DATA_HOME: inside HA_DIR, so that down leaves nothing behind.
as_pg() {
	local e=(PGPASSFILE="$HA_DIR/pgpass" PATH="$PG_BIN:$PATH" XDG_CONFIG_HOME="$HA_DIR/xdg/config"
		XDG_DATA_HOME="$HA_DIR/xdg/data" XDG_RUNTIME_DIR="$HA_DIR/xdg/run")
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- env "${e[@]}" "$@"; else env "${e[@]}" "$@"; fi
}
psql_at() { # psql_at PORT DB SQL...
	local port=$1 db=$2; shift 2
	as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres -d "$db" "$@"
}
secret() { sed -n "s/^$1=//p" "$HA_DIR/secrets"; }

# The nodes' pg_hba.conf: no trust line; replication and every role over
# loopback with a password, the servers' own OS user over the socket.
write_hba() {
	cat >"$1/pg_hba.conf" <<'HBA'
# Written by deploy/ha/trial.sh: passwords (scram-sha-256) over TCP, peer on the socket.
local   all          postgres                    peer
local   replication  postgres                    peer
host    all          all          127.0.0.1/32   scram-sha-256
host    replication  all          127.0.0.1/32   scram-sha-256
HBA
}

start_keeper() { # start_keeper NAME
	as_pg bash -c "nohup pg_autoctl run --pgdata '$HA_DIR/$1' >>'$HA_DIR/$1.run.log' 2>&1 & echo \$! >'$HA_DIR/$1.keeper.pid'"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local t=$1 what=$2; shift 2
	for _ in $(seq 1 $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "trial.sh: timed out waiting for $what" >&2
	return 1
}

node_is() { # node_is NAME STATE: the monitor reports NAME in STATE
	psql_at "$MON_PORT" pg_auto_failover -Atc "SELECT 1 FROM pgautofailover.node WHERE nodename = '$1' AND reportedstate = '$2' AND goalstate = '$2'" | grep -q 1
}

up() {
	command -v pg_autoctl >/dev/null || { echo "pg_autoctl missing: apt-get install -y pg-auto-failover-cli postgresql-15-auto-failover" >&2; exit 1; }
	[ -e "$HA_DIR" ] && { echo "$HA_DIR exists: trial.sh down first" >&2; exit 1; }
	mkdir -p "$HA_DIR/xdg/config" "$HA_DIR/xdg/data" "$HA_DIR/xdg/run"
	chmod 700 "$HA_DIR"
	local pw_auto pw_repl pw_mon pw_owner pw_app
	pw_auto=$(openssl rand -hex 16); pw_repl=$(openssl rand -hex 16); pw_mon=$(openssl rand -hex 16)
	pw_owner=$(openssl rand -hex 16); pw_app=$(openssl rand -hex 16)
	printf 'autoctl_node=%s\nreplicator=%s\nmonitor=%s\nowner=%s\napp=%s\n' "$pw_auto" "$pw_repl" "$pw_mon" "$pw_owner" "$pw_app" >"$HA_DIR/secrets"
	# libpq reads this for pg_autoctl's own connections, pg_basebackup and
	# the standby's walreceiver alike.
	printf '127.0.0.1:*:*:autoctl_node:%s\n127.0.0.1:*:*:pgautofailover_replicator:%s\n127.0.0.1:*:*:pgautofailover_monitor:%s\n' \
		"$pw_auto" "$pw_repl" "$pw_mon" >"$HA_DIR/pgpass"
	chmod 600 "$HA_DIR/secrets" "$HA_DIR/pgpass"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$HA_DIR"

	as_pg pg_autoctl create monitor --pgdata "$HA_DIR/monitor" --pgport "$MON_PORT" --hostname 127.0.0.1 \
		--skip-pg-hba --no-ssl --pgctl "$PG_BIN/pg_ctl" >>"$HA_DIR/monitor.log" 2>&1
	write_hba "$HA_DIR/monitor"
	start_keeper monitor
	wait_for 60 "the monitor" psql_at "$MON_PORT" pg_auto_failover -Atc "SELECT 1"
	# Failure detection tuned for a trial on loopback: a health check each
	# second, unhealthy after 3 s, a lost primary given 3 s to demote itself.
	psql_at "$MON_PORT" pg_auto_failover <<SQL
ALTER ROLE autoctl_node PASSWORD '$pw_auto';
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000;
SELECT pg_reload_conf();
SQL
	local monitor_url="postgres://autoctl_node@127.0.0.1:$MON_PORT/pg_auto_failover?sslmode=disable"
	for i in 0 1; do
		local name=node$((i + 1)) port=${NODE_PORTS[$i]}
		as_pg pg_autoctl create postgres --pgdata "$HA_DIR/$name" --pgport "$port" --hostname 127.0.0.1 --listen 127.0.0.1 --name "$name" \
			--dbname healthrec --monitor "$monitor_url" --skip-pg-hba --no-ssl \
			--pgctl "$PG_BIN/pg_ctl" >>"$HA_DIR/$name.log" 2>&1
		write_hba "$HA_DIR/$name"
		start_keeper "$name"
		if [ "$i" = 0 ]; then
			wait_for 90 "node1 as single primary" node_is node1 single
			wait_for 60 "node1's server" psql_at "${NODE_PORTS[0]}" postgres -Atc "SELECT 1"
			psql_at "${NODE_PORTS[0]}" postgres <<SQL
ALTER ROLE pgautofailover_replicator PASSWORD '$pw_repl';
ALTER ROLE pgautofailover_monitor PASSWORD '$pw_mon';
SQL
		fi
	done
	wait_for 120 "node2 as synchronous standby" node_is node2 secondary
	wait_for 30 "node1 as primary" node_is node1 primary

	# The healthrec roles of sql/roles.sql; pg_autoctl created the database.
	psql_at "${NODE_PORTS[0]}" postgres <<SQL
CREATE ROLE healthrec_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$pw_owner';
CREATE ROLE healthrec_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$pw_app';
ALTER DATABASE healthrec OWNER TO healthrec_owner;
\connect healthrec
-- pg_autoctl puts pg_stat_statements in the database's public schema, whose
-- functions grant_app_role would hand to the app role; the trial has no use for it.
DROP EXTENSION IF EXISTS pg_stat_statements;
ALTER SCHEMA public OWNER TO healthrec_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE healthrec FROM PUBLIC;
GRANT CONNECT ON DATABASE healthrec TO healthrec_app;
-- Read-only statistics, so that /metrics can show the standby's lag
-- (pg_stat_replication hides it from other roles); optional.
GRANT pg_monitor TO healthrec_app;
SQL
	echo "pg_auto_failover set up in $HA_DIR:"
	state
}

urls() { # the multi-host URLs, primary first as pg_autoctl show uri would
	local hosts="127.0.0.1:${NODE_PORTS[0]},127.0.0.1:${NODE_PORTS[1]}"
	local q="sslmode=disable&target_session_attrs=read-write&connect_timeout=2"
	echo "DATABASE_URL=postgres://healthrec_app:$(secret app)@$hosts/healthrec?$q"
	echo "DATABASE_OWNER_URL=postgres://healthrec_owner:$(secret owner)@$hosts/healthrec?$q"
}

state() { as_pg pg_autoctl show state --monitor "postgres://autoctl_node@127.0.0.1:$MON_PORT/pg_auto_failover?sslmode=disable"; }

primary() { # the node that answers and is not in recovery
	local i
	for i in 0 1; do
		if [ "$(psql_at "${NODE_PORTS[$i]}" postgres -Atc "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; then
			echo "node$((i + 1))"
			return 0
		fi
	done
	return 1
}

descendants() { # every process under $1
	local c
	for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done
}

kill_node() { # the keeper, its services and the postmaster with its backends at once: a lost machine
	local name=$1
	local keeper pm pids
	keeper=$(cat "$HA_DIR/$name.keeper.pid")
	pm=$(head -1 "$HA_DIR/$name/postmaster.pid")
	pids="$keeper $(descendants "$keeper") $pm $(descendants "$pm")"
	kill -9 $pids 2>/dev/null || true
	echo "killed $name: pg_autoctl $keeper, postmaster $pm ($(echo $pids | wc -w) processes)"
}

down() {
	[ -d "$HA_DIR" ] || return 0
	for f in "$HA_DIR"/*.keeper.pid; do
		[ -e "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true
	done
	sleep 2
	for d in node1 node2 monitor; do
		[ -f "$HA_DIR/$d/postmaster.pid" ] && as_pg pg_ctl -D "$HA_DIR/$d" -m immediate stop >/dev/null 2>&1 || true
	done
	rm -rf "$HA_DIR"
}

case "${1:-}" in
up) up ;;
env) urls ;;
state) state ;;
primary) primary ;;
kill) kill_node "$2" ;;
down) down ;;
*) sed -n '2,20p' "$0"; exit 2 ;;
esac
