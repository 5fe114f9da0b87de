#!/usr/bin/env bash
# A single-node Ceph cluster with a RADOS Gateway (S3) on 127.0.0.1, for the S3 tests and the bench.
#
#   scripts/ceph.sh start   install Debian's ceph-mon, ceph-osd and radosgw when missing, bring up
#                           1 mon + 1 OSD + 1 RGW (no mgr, auth none) and print the S3 settings
#   scripts/ceph.sh env     print the S3 settings (KEY=value lines, `eval`-able with `export`)
#   scripts/ceph.sh stop    stop the daemons (data is kept; `start` brings it back in ~3 s)
#   scripts/ceph.sh status  exit 0 when the mon, the OSD and the RGW all run, 1 otherwise
#
# Idempotent: `start` with everything up changes nothing; only missing daemons are started.
# Environment: CEPH_DIR (data folder, default /var/tmp/frago-ceph), CEPH_RGW_PORT (default 7480),
# CEPH_OSD_SIZE (sparse BlueStore file, default 20 GiB), LC_DEBUG_INTERVAL (seconds a lifecycle
# "day" lasts; give it on every start that (re)starts the RGW), WITH_MGR=1 (also run a ceph-mgr).
# The mon ports (3300, 6789) are fixed: one cluster per machine.
set -euo pipefail

CEPH_DIR="${CEPH_DIR:-/var/tmp/frago-ceph}"
RGW_PORT="${CEPH_RGW_PORT:-7480}"
OSD_SIZE="${CEPH_OSD_SIZE:-21474836480}"
export CEPH_CONF="$CEPH_DIR/ceph.conf"
MON_ADDR='[v2:127.0.0.1:3300,v1:127.0.0.1:6789]'

log() { echo "ceph.sh: $*" >&2; }

install_packages() {
  local packages=(ceph-mon ceph-osd radosgw)
  [ "${WITH_MGR:-0}" = 1 ] && packages+=(ceph-mgr)
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} (about 30 s)"
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}

write_config() {
  mkdir -p "$CEPH_DIR"/{mon,osd,log,run}
  local lc=''
  [ -n "${LC_DEBUG_INTERVAL:-}" ] && lc="rgw_lc_debug_interval = $LC_DEBUG_INTERVAL"
  cat >"$CEPH_CONF" <<EOF
[global]
fsid = $(cat "$CEPH_DIR/fsid")
mon_host = $MON_ADDR
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
pid_file = $CEPH_DIR/run/\$name.pid
admin_socket = $CEPH_DIR/run/\$name.asok
log_file = $CEPH_DIR/log/\$name.log

[mon]
mon_data = $CEPH_DIR/mon/\$cluster-\$id
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[osd]
osd_data = $CEPH_DIR/osd/\$cluster-\$id
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = $OSD_SIZE
osd_memory_target = 1073741824

[mgr]
mgr_data = $CEPH_DIR/mgr/\$cluster-\$id

[client.rgw.a]
ms_mon_client_mode = crc
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_thread_pool_size = 64
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
$lc
EOF
}

# True when the daemon whose pid file is $1 runs (a stale pid file of a reused pid does not count).
running() {
  [ -f "$1" ] || return 1
  local pid
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE 'ceph-mon|ceph-osd|ceph-mgr|radosgw'
}

start_mon() {
  if [ ! -f "$CEPH_DIR/mon/ceph-a/done" ]; then
    rm -rf "$CEPH_DIR/mon/ceph-a"
    ceph-authtool --create-keyring "$CEPH_DIR/mon.keyring" --gen-key -n mon. >/dev/null
    monmaptool --create --fsid "$(cat "$CEPH_DIR/fsid")" --addv a "$MON_ADDR" "$CEPH_DIR/monmap" >/dev/null
    ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_DIR/mon.keyring"
    touch "$CEPH_DIR/mon/ceph-a/done"
  fi
  running "$CEPH_DIR/run/mon.a.pid" || ceph-mon -i a
}

start_osd() {
  if [ ! -f "$CEPH_DIR/osd/ceph-0/ready" ]; then
    local uuid
    uuid="$(cat "$CEPH_DIR/osd.uuid" 2>/dev/null || true)"
    if [ -z "$uuid" ]; then uuid="$(cat /proc/sys/kernel/random/uuid)"; echo "$uuid" >"$CEPH_DIR/osd.uuid"; fi
    ceph osd new "$uuid" 0 >/dev/null
    rm -rf "$CEPH_DIR/osd/ceph-0" && mkdir -p "$CEPH_DIR/osd/ceph-0"
    ceph-osd -i 0 --mkfs --osd-uuid "$uuid" >"$CEPH_DIR/log/osd.0.mkfs.log" 2>&1 ||
      { log "OSD mkfs failed; see $CEPH_DIR/log/osd.0.mkfs.log"; return 1; }
    touch "$CEPH_DIR/osd/ceph-0/ready"
  fi
  running "$CEPH_DIR/run/osd.0.pid" || ceph-osd -i 0 2>>"$CEPH_DIR/log/osd.0.start.log"
  for _ in $(seq 1 120); do
    ceph osd dump --format json 2>/dev/null | grep -q '"up":1' && return 0
    sleep 0.25
  done
  log "the OSD did not come up; see $CEPH_DIR/log/osd.0.log"
  return 1
}

create_pools() {
  [ -f "$CEPH_DIR/pools.done" ] && return 0
  local pool
  for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index \
    default.rgw.buckets.data default.rgw.buckets.non-ec; do
    ceph osd pool create "$pool" 8 8 >/dev/null 2>&1
    ceph osd pool application enable "$pool" rgw >/dev/null 2>&1
  done
  touch "$CEPH_DIR/pools.done"
}

start_mgr() {
  [ "${WITH_MGR:-0}" = 1 ] || return 0
  mkdir -p "$CEPH_DIR/mgr/ceph-x"
  running "$CEPH_DIR/run/mgr.x.pid" || ceph-mgr -i x
}

rgw_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$RGW_PORT/"; }

start_rgw() {
  running "$CEPH_DIR/run/client.rgw.a.pid" || radosgw -n client.rgw.a
  for _ in $(seq 1 240); do
    rgw_answers && return 0
    sleep 0.25
  done
  log "the RGW did not answer on 127.0.0.1:$RGW_PORT; see $CEPH_DIR/log/client.rgw.a.log"
  return 1
}

ensure_user() {
  if [ ! -f "$CEPH_DIR/s3.env" ]; then
    local access secret
    access="FRAGO$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
    secret="$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')"
    printf 'S3_ENDPOINT=http://127.0.0.1:%s\nS3_REGION=us-east-1\nS3_ACCESS_KEY=%s\nS3_SECRET_KEY=%s\n' \
      "$RGW_PORT" "$access" "$secret" >"$CEPH_DIR/s3.env.new"
    mv "$CEPH_DIR/s3.env.new" "$CEPH_DIR/s3.env"
  fi
  # shellcheck disable=SC1091
  . "$CEPH_DIR/s3.env"
  radosgw-admin user info --uid=s3test >/dev/null 2>&1 ||
    radosgw-admin user create --uid=s3test --display-name='frago tests' \
      --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null
}

print_env() {
  if [ ! -f "$CEPH_DIR/s3.env" ]; then log "no cluster in $CEPH_DIR; run: $0 start"; return 1; fi
  cat "$CEPH_DIR/s3.env"
}

start() {
  install_packages
  mkdir -p "$CEPH_DIR"
  [ -f "$CEPH_DIR/fsid" ] || cat /proc/sys/kernel/random/uuid >"$CEPH_DIR/fsid"
  write_config
  start_mon
  start_osd
  create_pools
  start_mgr
  start_rgw
  ensure_user
  print_env
}

stop_daemon() { # pid file
  [ -f "$1" ] || return 0
  local pid
  pid="$(cat "$1")"
  if running "$1"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

stop() {
  stop_daemon "$CEPH_DIR/run/client.rgw.a.pid"
  stop_daemon "$CEPH_DIR/run/mgr.x.pid"
  stop_daemon "$CEPH_DIR/run/osd.0.pid"
  stop_daemon "$CEPH_DIR/run/mon.a.pid"
}

status() {
  running "$CEPH_DIR/run/mon.a.pid" && running "$CEPH_DIR/run/osd.0.pid" && running "$CEPH_DIR/run/client.rgw.a.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
