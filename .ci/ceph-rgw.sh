#!/usr/bin/env bash
# Starts a real S3 server for CI: Debian's Ceph as a one-monitor, one-OSD cluster on an in-memory object
# store, with the RADOS Gateway on 127.0.0.1:7480. Real, because the S3 adapter's tests include signature
# and expiry checks that fake servers (s3rver) would pass by accepting anything.
#
# Unattended and idempotent: if something already answers on the RGW port, it prints the env and exits 0.
# Otherwise it installs Ceph if missing, wipes its own state dir and builds a fresh cluster (memstore keeps
# objects in RAM, so there is nothing worth resuming). Usage: `.ci/ceph-rgw.sh`, then export what it prints.
#
# `.ci/ceph-rgw.sh stop` stops the daemons and removes the state dir.
#
# Env (all optional): ARABICSTT_CEPH_DIR (state, default /tmp/arabicstt-ceph), ARABICSTT_CEPH_RGW_PORT
# (default 7480), ARABICSTT_CEPH_MON_PORT (msgr2 port, default 3300; msgr1 uses it plus 3489, i.e. 6789).
set -euo pipefail

CEPH_DIR="${ARABICSTT_CEPH_DIR:-/tmp/arabicstt-ceph}"
RGW_PORT="${ARABICSTT_CEPH_RGW_PORT:-7480}"
MON_PORT="${ARABICSTT_CEPH_MON_PORT:-3300}"
MON_V1_PORT=$((MON_PORT + 3489))
# Fixed test credentials: this server lives only on loopback for the length of a CI job.
ACCESS_KEY="arabicstt-ci-access-key"
SECRET_KEY="arabicstt-ci-secret-key-not-a-real-secret"
REGION="us-east-1"
UID_NAME="arabicstt"
MARKER=".arabicstt-ceph"
START_TIMEOUT_S="${ARABICSTT_CEPH_START_TIMEOUT_S:-120}"

log() { printf '[ceph-rgw] %s\n' "$*" >&2; }

print_env() {
  printf 'S3_ENDPOINT=http://127.0.0.1:%s S3_ACCESS_KEY_ID=%s S3_SECRET_ACCESS_KEY=%s S3_REGION=%s\n' \
    "$RGW_PORT" "$ACCESS_KEY" "$SECRET_KEY" "$REGION"
}

# Plain bash rather than curl: a fresh machine may not have curl, and any HTTP status line means "up".
rgw_answers() {
  local line
  line="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/${RGW_PORT}" || exit 0
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 5 status <&3 && printf '%s' "$status"
  )"
  [[ "$line" == HTTP/* ]]
}

dump_logs() {
  for f in "$CEPH_DIR"/log/*.log; do
    [[ -f "$f" ]] || continue
    log "---- tail of $f"
    tail -n 40 "$f" >&2 || true
  done
}

fail() {
  log "ERROR: $*"
  dump_logs
  exit 1
}

stop_previous() {
  local pidfile pid
  for pidfile in "$CEPH_DIR"/run/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      log "stopping leftover daemon $pid ($pidfile)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

install_ceph() {
  if command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v radosgw >/dev/null &&
    command -v radosgw-admin >/dev/null; then
    return
  fi
  log "installing ceph-mon ceph-osd radosgw from Debian"
  export DEBIAN_FRONTEND=noninteractive
  local pkgs=(ceph-mon ceph-osd radosgw)
  if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends "${pkgs[@]}" >&2
  fi
}

if [[ "${1:-}" == "stop" ]]; then
  [[ -f "$CEPH_DIR/$MARKER" ]] || { log "nothing to stop in $CEPH_DIR"; exit 0; }
  stop_previous
  rm -rf "$CEPH_DIR"
  log "stopped"
  exit 0
fi

if rgw_answers; then
  log "something already answers on 127.0.0.1:${RGW_PORT}; leaving it be"
  print_env
  exit 0
fi

install_ceph

# Refuse to wipe a directory this script did not create: the path is configurable.
if [[ -e "$CEPH_DIR" ]]; then
  if [[ -n "$(ls -A "$CEPH_DIR" 2>/dev/null)" && ! -f "$CEPH_DIR/$MARKER" ]]; then
    fail "$CEPH_DIR exists, is not empty and was not made by this script; set ARABICSTT_CEPH_DIR elsewhere"
  fi
  stop_previous
  rm -rf "$CEPH_DIR"
fi
mkdir -p "$CEPH_DIR"/{run,log,mon,osd,rgw}
touch "$CEPH_DIR/$MARKER"

started_at=$(date +%s.%N)
FSID="$(cat /proc/sys/kernel/random/uuid)"
OSD_UUID="$(cat /proc/sys/kernel/random/uuid)"
CONF="$CEPH_DIR/ceph.conf"
export CEPH_CONF="$CONF"

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:${MON_PORT},v1:127.0.0.1:${MON_V1_PORT}]
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
log file = $CEPH_DIR/log/\$name.log
log to stderr = false
err to stderr = false
# One OSD: no replicas, placement by OSD rather than host, and no health noise about either.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# RGW creates about eight pools; the defaults (32 PGs each, 250 PGs per OSD) would not fit on one OSD.
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
# /tmp on CI machines can be nearly full; the monitor would refuse to start below its default 5%.
mon data avail crit = 0
mon data avail warn = 0

[mon]
mon data = $CEPH_DIR/mon/\$cluster-\$id

[osd]
osd data = $CEPH_DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd memory target = 536870912

[client.rgw.a]
rgw data = $CEPH_DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:${RGW_PORT}
rgw thread pool size = 64
rgw dns name = 127.0.0.1
# radosgw forces "secure" for its monitor session, which auth "none" cannot provide; crc is enough on loopback.
ms mon client mode = crc
log file = $CEPH_DIR/log/\$name.log
EOF

log "creating monitor"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:${MON_PORT},v1:127.0.0.1:${MON_V1_PORT}]" \
  "$CEPH_DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$CEPH_DIR/monmap" 2>>"$CEPH_DIR/log/daemons-stderr.log" || fail "ceph-mon --mkfs failed"
# Daemons' own stderr (anything before their log opens) goes to a file the failure dump shows.
DAEMON_ERR="$CEPH_DIR/log/daemons-stderr.log"
ceph-mon -c "$CONF" -i a 2>>"$DAEMON_ERR" || fail "ceph-mon did not start"

# Every ceph CLI call gets a timeout: without one a missing monitor makes it hang forever.
cephc() { timeout 30 ceph -c "$CONF" --connect-timeout 20 "$@"; }

cephc mon stat >/dev/null 2>&1 || fail "monitor does not answer"
cephc config set mon mon_warn_on_insecure_global_id_reclaim_allowed false >/dev/null 2>&1 || true

log "creating OSD"
OSD_ID="$(cephc osd new "$OSD_UUID")" || fail "ceph osd new failed"
mkdir -p "$CEPH_DIR/osd/ceph-$OSD_ID"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >>"$DAEMON_ERR" 2>&1 ||
  fail "ceph-osd --mkfs failed"
ceph-osd -c "$CONF" -i "$OSD_ID" 2>>"$DAEMON_ERR" || fail "ceph-osd did not start"

for _ in $(seq 1 $((START_TIMEOUT_S * 2))); do
  if cephc osd dump 2>/dev/null | grep -q "^osd\.${OSD_ID} up"; then break; fi
  sleep 0.5
done
cephc osd dump 2>/dev/null | grep -q "^osd\.${OSD_ID} up" || fail "OSD never came up"

log "starting radosgw on 127.0.0.1:${RGW_PORT}"
radosgw -c "$CONF" -n client.rgw.a 2>>"$DAEMON_ERR" || fail "radosgw did not start"

deadline=$(($(date +%s) + START_TIMEOUT_S))
until rgw_answers; do
  (($(date +%s) < deadline)) || fail "radosgw did not answer HTTP within ${START_TIMEOUT_S}s"
  sleep 0.3
done

if ! timeout 30 radosgw-admin -c "$CONF" user info --uid="$UID_NAME" >/dev/null 2>&1; then
  timeout 30 radosgw-admin -c "$CONF" user create --uid="$UID_NAME" --display-name="arabicstt CI" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null || fail "radosgw-admin user create failed"
fi

log "ready in $(awk -v a="$started_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s (state in $CEPH_DIR)"
print_env
