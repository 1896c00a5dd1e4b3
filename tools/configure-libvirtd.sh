#!/usr/bin/env bash
# Let members of group "libvirt" use libvirtd's read-write socket (root).
#
# Debian's libvirtd authorises non-root clients of qemu:///system through
# polkit, which needs dbus; with no dbus a non-root agent gets "Unable to
# get system bus connection". Instead the socket is owned by group libvirt
# with mode 0770 and needs no further authentication (as Ubuntu ships it):
# whoever may open the socket is trusted, so membership of group libvirt
# is the grant. Root clients are unaffected.
#
# It also raises libvirtd's limits of concurrent requests (see below).
#
# Idempotent: the settings replace their (commented) lines in
# libvirtd.conf, never added twice. A running system libvirtd whose
# settings changed, or whose socket does not have the new group and mode
# yet, is restarted (its guests keep running). With systemd, libvirtd is socket-activated and the socket's
# group and mode come from libvirtd.socket, so a drop-in sets them there.
set -euo pipefail

CONF=/etc/libvirt/libvirtd.conf
SOCKET=/run/libvirt/libvirt-sock
PIDFILE=/run/libvirtd.pid
GROUP=libvirt
MODE=770
DROPIN=/etc/systemd/system/libvirtd.socket.d/computeagent.conf
MAX_CLIENT_REQUESTS=64
MAX_WORKERS=64

if [ "$(id -u)" != 0 ]; then
    echo "tools/configure-libvirtd.sh must run as root." >&2
    exit 1
fi

# set_option KEY VALUE: the first "KEY =" line, else the first commented
# "#KEY =" line, becomes "KEY = VALUE"; appended only if neither exists.
set_option() {
    local key=$1 value=$2
    local active="^[[:space:]]*${key}[[:space:]]*="
    local commented="^[[:space:]]*#[[:space:]]*${key}[[:space:]]*="
    if grep -Eq "$active" "$CONF"; then
        sed -i -E "s|${active}.*|${key} = ${value}|" "$CONF"
    elif grep -Eq "$commented" "$CONF"; then
        sed -i -E "0,/${commented}/s|${commented}.*|${key} = ${value}|" \
            "$CONF"
    else
        printf '%s = %s\n' "$key" "$value" >>"$CONF"
    fi
}

systemd_running() { [ -d /run/systemd/system ]; }

# The system libvirtd's pid, or nothing. Its pid file, not pgrep: tests
# run private libvirtd processes of their own (tests/functional).
system_libvirtd() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/libvirtd ] \
        && echo "$pid"
    return 0
}

socket_ok() {
    [ "$(stat -c '%G %a' "$SOCKET" 2>/dev/null)" = "$GROUP $MODE" ]
}

getent group "$GROUP" >/dev/null || groupadd --system "$GROUP"
before=$(sha256sum "$CONF")
set_option unix_sock_group "\"$GROUP\""
set_option unix_sock_rw_perms "\"0$MODE\""
set_option auth_unix_rw '"none"'
# One client's requests in progress at once (default 5; more wait unread
# on its socket) and the daemon's threads (default 20): the agent starts
# up to max_concurrent_builds guests at once on one connection, and a
# quick lookup or state read queued behind five slow starts made each
# create of a burst wait seconds (docs/operations.md, "libvirtd's limits").
set_option max_client_requests "$MAX_CLIENT_REQUESTS"
set_option max_workers "$MAX_WORKERS"
changed=no
[ "$before" = "$(sha256sum "$CONF")" ] || changed=yes

if systemd_running; then
    mkdir -p "$(dirname "$DROPIN")"
    want=$(printf '[Socket]\nSocketGroup=%s\nSocketMode=0%s\n' \
        "$GROUP" "$MODE")
    if [ "$(cat "$DROPIN" 2>/dev/null)" != "$want" ]; then
        printf '%s\n' "$want" >"$DROPIN"
        systemctl daemon-reload
        changed=yes
    fi
    if systemctl -q is-active libvirtd.service libvirtd.socket \
            && { [ $changed = yes ] || ! socket_ok; }; then
        echo "libvirtd: restarting for its new settings"
        systemctl stop libvirtd.service libvirtd.socket
        systemctl start libvirtd.socket libvirtd.service
    fi
    exit 0
fi

pid=$(system_libvirtd)
if [ -n "$pid" ] && { [ $changed = yes ] || ! socket_ok; }; then
    echo "libvirtd: restarting (pid $pid) for its new settings"
    kill -TERM "$pid"
    # Not our child: wait until it is gone or a zombie nobody reaped yet.
    for _ in $(seq 1 150); do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
        [ -z "$state" ] || [ "$state" = Z ] && break
        sleep 0.2
    done
    libvirtd -d
    for _ in $(seq 1 100); do
        virsh -c qemu:///system -q version >/dev/null 2>&1 && break
        sleep 0.2
    done
fi
