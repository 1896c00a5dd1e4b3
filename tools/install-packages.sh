#!/usr/bin/env bash
# Install the host packages the agent and its tests need (Debian 12, root).
# Idempotent: does nothing when every package is already installed.
set -euo pipefail

# openssl: the functional tests make their TLS certificates with it.
PACKAGES=(rabbitmq-server libvirt-daemon-system libvirt-clients libvirt-dev
          pkg-config gcc python3-dev python3-venv qemu-system-x86 qemu-utils
          xorriso nasm openssl)

if [ "$(id -u)" != 0 ]; then
    echo "tools/install-packages.sh must run as root (it uses apt-get)." >&2
    echo "Run it with sudo, or install: ${PACKAGES[*]}" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
        | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "host packages: all installed"
    exit 0
fi
echo "host packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services must not be started by the package scripts: there is no systemd
# here and tools/start-services.sh starts them (docs/operations.md).
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
