#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432), Mosquitto (127.0.0.1:1883) and Redis (127.0.0.1:6379, for
# the rate limits shared by API processes) are running, starting them
# if they are installed and stopped. Tests skip what is missing, unless CI=true, where they fail.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 30); do port_open "$port" && return 0; sleep 1; done
  echo "services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if port_open 5432; then
  echo "services: PostgreSQL is running"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "services: starting PostgreSQL"
  for version in /etc/postgresql/*; do
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
  done
  wait_port 5432 PostgreSQL
else
  echo "services: PostgreSQL is not installed; its tests will skip (or fail under CI=true)" >&2
fi

if ! command -v mosquitto_pub >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "services: installing mosquitto-clients"
  apt-get install -y -qq mosquitto-clients >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq mosquitto-clients >/dev/null 2>&1; }
fi

if port_open 1883; then
  echo "services: Mosquitto is running"
elif command -v mosquitto >/dev/null 2>&1; then
  echo "services: starting Mosquitto"
  if [ -f /etc/mosquitto/mosquitto.conf ]; then
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
  else
    mosquitto -d -p 1883
  fi
  wait_port 1883 Mosquitto
else
  echo "services: Mosquitto is not installed; its tests will skip (or fail under CI=true)" >&2
fi
if port_open 6379; then
  echo "services: Redis is running"
elif command -v redis-server >/dev/null 2>&1; then
  echo "services: starting Redis (in memory only)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/warehouse-redis.log
  wait_port 6379 Redis
else
  echo "services: Redis is not installed; its tests will skip (or fail under CI=true)" >&2
fi
exit 0
