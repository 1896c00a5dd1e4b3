"""The host tier: tests that run host tools for real (``tox -e host``).

qemu-img, qemu-io, nasm, xorriso, systemd-analyze and a fresh Python
interpreter; the libvirt driver's tests are here because the driver makes
its disks with qemu-img. Unit tests may start no process (tests/base.py).
"""
