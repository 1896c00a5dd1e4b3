#!/usr/bin/env bash
# Deploy the agent on this compute node from this checkout (Debian 12,
# root). Idempotent: run it again to upgrade; an existing configuration
# is never overwritten.
#
#   tools/install-agent.sh         everything below
#   tools/install-agent.sh user    only the computeagent user and its home
#   tools/install-agent.sh venv    the user and the virtualenv: what the
#                                  functional tests run (tools/run-tests.sh),
#                                  no configuration, unit or service start
#
# What it does (docs/operations.md, "Deploying on a compute node"):
#   - the Debian packages (tools/install-packages.sh);
#   - a system user and group computeagent, no login shell, home
#     /var/lib/computeagent, in group libvirt;
#   - the agent in a virtualenv, /opt/computeagent;
#   - /etc/computeagent/computeagent.conf if there is none
#     (COMPUTEAGENT_TRANSPORT_URL sets its transport_url);
#   - instances_path and the image directory, computeagent's, 0755;
#   - libvirtd's socket for group libvirt (tools/configure-libvirtd.sh);
#   - the systemd unit, enabled and (re)started when systemd runs.
set -euo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)

AGENT_USER=computeagent
HOME_DIR=/var/lib/computeagent
VENV=/opt/computeagent
CONF_DIR=/etc/computeagent
CONF=$CONF_DIR/computeagent.conf
UNIT=computeagent.service
TRANSPORT_URL=${COMPUTEAGENT_TRANSPORT_URL:-rabbit://guest:guest@127.0.0.1:5672/}

if [ "$(id -u)" != 0 ]; then
    echo "tools/install-agent.sh must run as root (it creates a system" \
         "user and configures libvirtd)." >&2
    exit 1
fi
umask 022

# Two runs at once (parallel test workers) must not race on useradd.
exec 9>/run/computeagent-install.lock
flock 9

install_user() {
    # libvirt-daemon-system creates the group; make sure, for a run of
    # "user" alone.
    getent group libvirt >/dev/null || groupadd --system libvirt
    if ! getent passwd "$AGENT_USER" >/dev/null; then
        useradd --system --user-group --home-dir "$HOME_DIR" \
            --no-create-home --shell /usr/sbin/nologin \
            --comment 'computeagent compute-node agent' "$AGENT_USER"
    fi
    # libvirt: the read-write libvirtd socket. Nothing else: QEMU, not
    # the agent, opens /dev/kvm (group kvm).
    usermod --append --groups libvirt "$AGENT_USER"
    # 0755: QEMU (libvirt-qemu) traverses it to reach instance disks.
    install -d -o "$AGENT_USER" -g "$AGENT_USER" -m 0755 "$HOME_DIR"
}

install_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    # A local directory is always rebuilt and reinstalled, so this
    # upgrades to the checkout's code.
    "$VENV/bin/pip" install -q --disable-pip-version-check "$top"
    "$VENV/bin/computeagent" --version >/dev/null
}

write_config() {
    install -d -m 0755 "$CONF_DIR"
    if [ -e "$CONF" ]; then
        echo "keeping $CONF"
        return
    fi
    local virt_type=kvm
    [ -e /dev/kvm ] || virt_type=qemu
    # Root-owned, readable by the agent's group only: the transport URL
    # carries the broker's password.
    install -m 0640 -o root -g "$AGENT_USER" /dev/null "$CONF"
    cat >"$CONF" <<CONF
# computeagent configuration, written by tools/install-agent.sh.
# Every option: etc/computeagent/computeagent.conf.sample (tools/tox -e genconfig).
[DEFAULT]
# The controllers' RabbitMQ; set its address and credentials.
transport_url = $TRANSPORT_URL
virt_driver = libvirt
# Moving it elsewhere: add it to the unit's ReadWritePaths
# (systemctl edit computeagent) and make it computeagent's, mode 0755.
instances_path = $HOME_DIR/instances
# No log_file: the agent logs to standard output, which systemd keeps
# in the journal (journalctl -u computeagent).

[image]
directory = $HOME_DIR/images

[libvirt]
connection_uri = qemu:///system
virt_type = $virt_type
CONF
    echo "wrote $CONF"
}

# The option as the configuration sets it, or its default.
conf_value() {
    "$VENV/bin/python" - "$CONF" "$1" "$2" "$3" <<'PY'
import configparser
import sys

path, section, name, default = sys.argv[1:]
parser = configparser.ConfigParser(interpolation=None)
parser.read(path)
print(parser.get(section, name, fallback=default))
PY
}

make_dirs() {
    local instances images
    instances=$(conf_value DEFAULT instances_path "$HOME_DIR/instances")
    images=$(conf_value image directory "$HOME_DIR/images")
    install -d -o "$AGENT_USER" -g "$AGENT_USER" -m 0755 "$instances" \
        "$images"
}

install_unit() {
    install -m 0644 "$top/etc/computeagent/$UNIT" "/etc/systemd/system/$UNIT"
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable "$UNIT"
        # Restart, not only start: a re-run installs new code.
        systemctl restart "$UNIT"
        echo "computeagent: started (systemctl status computeagent)"
        return
    fi
    cat <<HINT
systemd is not running here: $UNIT is installed but not started.
Start the agent by hand with the unit's user and capability:

  setpriv --reuid=$AGENT_USER --regid=$AGENT_USER --init-groups \\
      --inh-caps=+dac_read_search --ambient-caps=+dac_read_search \\
      --bounding-set=-all,+dac_read_search --no-new-privs \\
      $VENV/bin/computeagent --config-file $CONF
HINT
}

case "${1:-all}" in
    user)
        install_user
        ;;
    venv)
        install_user
        install_venv
        ;;
    all)
        bash "$top/tools/install-packages.sh"
        install_user
        install_venv
        write_config
        make_dirs
        bash "$top/tools/configure-libvirtd.sh"
        install_unit
        ;;
    *)
        echo "usage: tools/install-agent.sh [all|user|venv]" >&2
        exit 2
        ;;
esac
