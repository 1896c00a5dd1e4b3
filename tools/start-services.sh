#!/usr/bin/env bash
# Start RabbitMQ, virtlogd and libvirtd if they are not running (no systemd
# on these machines: virtlogd before libvirtd, /dev/kvm for group kvm;
# docs/operations.md, "Troubleshooting"). Idempotent and safe to run often.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
    echo "tools/start-services.sh must run as root." >&2
    exit 1
fi

log_dir=/var/log/computeagent-services
mkdir -p "$log_dir"

# One start at a time: test workers that find a service down all run this
# script at once, and two rabbitmq-server starts fail each other. Every
# daemon started below gets the lock's descriptor closed (9>&-): one that
# inherited it would hold the lock for as long as it runs, and the next
# start would wait forever. The wait is bounded all the same.
exec 9>"$log_dir/.start.lock"
if ! flock -w 600 9; then
    echo "tools/start-services.sh: another start has held $log_dir/.start.lock for 10 minutes" >&2
    exit 1
fi

# QEMU runs as libvirt-qemu (group kvm); a root-only /dev/kvm makes libvirt
# re-probe QEMU on every request (~50 s per start). Fix it before libvirtd.
if [ -e /dev/kvm ]; then
    chgrp kvm /dev/kvm && chmod 660 /dev/kvm || true
fi

# The system daemon, known by its pid file: pgrep would also match the
# private libvirtd and virtlogd some functional tests start.
running() {
    local pid
    pid=$(cat "/run/$1.pid" 2>/dev/null) || return 1
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "/usr/sbin/$1" ]
}

if ! rabbitmqctl -q status >/dev/null 2>&1; then
    echo "starting rabbitmq-server"
    rabbitmq-server -detached >"$log_dir/rabbitmq.out" 2>&1 9>&- || true
fi
# The node takes a few seconds to appear; await_startup then waits for the
# broker itself to accept connections.
for _ in $(seq 1 120); do
    rabbitmqctl -q ping >/dev/null 2>&1 && break
    sleep 1
done
timeout 120 rabbitmqctl -q await_startup >/dev/null

# virtlogd before libvirtd: without it every domain start fails after a
# long wait on /run/libvirt/virtlogd-sock.
if ! running virtlogd; then
    echo "starting virtlogd"
    virtlogd -d 9>&-
fi
# Group libvirt may use the read-write socket (a non-root agent; no polkit
# without dbus); restarts a libvirtd still running with the old socket.
bash "$(dirname "$0")/configure-libvirtd.sh" 9>&-
if ! running libvirtd; then
    echo "starting libvirtd"
    libvirtd -d 9>&-
fi
for _ in $(seq 1 100); do
    virsh -c qemu:///system -q version >/dev/null 2>&1 && break
    sleep 0.2
done
virsh -c qemu:///system -q version >/dev/null
echo "services: rabbitmq, virtlogd, libvirtd running"
