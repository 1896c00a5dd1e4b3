"""A small real Linux guest for the functional tests: what it runs and says.

The boot sectors of tests/images.py prove what the firmware booted; this
guest proves what a real operating system sees: the serial number,
read-only flag and cache mode of each disk, disks plugged in and out
while it runs, the ACPI power button, and whether its writes reached the
disk file. tests/linux_guest_image.py builds it from Debian packages: an
initramfs of busybox, the kernel modules of :data:`MODULES` and
:data:`INIT`, booted by syslinux (:data:`SYSLINUX_CFG`).

The guest speaks on its serial console (ttyS0), one line per event, each
starting with :data:`PREFIX`; :func:`events` parses them::

    CAGUEST DISK vda sectors=65536 serial=boot ro=0 cache=write-back
    CAGUEST WROTE vdb serial=write-1f2e3d
    CAGUEST READY
    CAGUEST ADDED vdc sectors=2048 serial=hot ro=0 cache=write-through
    CAGUEST REMOVED vdc
    CAGUEST POWER-BUTTON

At boot it reports every disk (``DISK``), writes :func:`written_marker`
to the first sector of each disk whose serial starts with
:data:`WRITE_SERIAL_PREFIX` and reads it back with O_DIRECT (``WROTE``),
starts busybox ``acpid``, then says ``READY``: an ACPI request sent
before that is lost. From then on it polls /sys/block for disks added and
removed (a just-added disk misses some sysfs files for a moment, so it
waits for them); the power button makes it say ``POWER-BUTTON`` and
``poweroff -f``. It needs 80 MiB of memory or more (at 64 MiB it resets
in a loop): tests give it :data:`MEMORY_MB`.
"""

import collections
import re

#: the modules the guest loads, in dependency order: the kernel package
#: has no modules.dep, and this order is each .ko's dependencies resolved
MODULES = ('virtio_ring', 'virtio', 'virtio_pci_modern_dev',
           'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_blk',
           'scsi_common', 'scsi_mod', 'sd_mod', 'virtio_scsi',
           'button', 'evdev')
#: what starts every line the guest prints for the tests
PREFIX = 'CAGUEST'
READY = PREFIX + ' READY'
POWER_BUTTON = PREFIX + ' POWER-BUTTON'
#: a disk whose serial starts with this gets written at boot
WRITE_SERIAL_PREFIX = 'write-'
#: what tests give the guest (it needs 80 MiB or more)
MEMORY_MB = 128

INIT = r"""#!/bin/busybox sh
# PID 1 of the test guest. The kernel found no /dev/console in the
# initramfs, so it gave us no stdio: mount devtmpfs, then take the console.
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in @MODULES@; do
    insmod /lib/modules/$m.ko || echo "@PREFIX@ ERROR module=$m"
done

disks() {
    for d in /sys/block/*; do
        case "${d##*/}" in vd*|sd*) echo "${d##*/}" ;; esac
    done
}

# A just-added disk misses some sysfs files for a moment.
settled() {
    n=0
    while [ $n -lt 300 ]; do
        [ -e /sys/block/$1/queue/write_cache ] && [ -e /dev/$1 ] && \
            [ "$(cat /sys/block/$1/size 2>/dev/null)" != 0 ] && return 0
        n=$((n + 1))
        sleep 0.1
    done
}

report() {
    settled $2
    b=/sys/block/$2
    serial=$(cat $b/serial 2>/dev/null)
    cache=$(cat $b/queue/write_cache 2>/dev/null | tr ' ' -)
    echo "@PREFIX@ $1 $2 sectors=$(cat $b/size) serial=$serial" \
         "ro=$(cat $b/ro) cache=$cache"
    case "$serial" in
    @WRITE@*)
        printf '@PREFIX@-WRITTEN-BY %s\n' "$serial" | \
            dd of=/dev/$2 bs=512 conv=sync,fsync 2>/dev/null
        if dd if=/dev/$2 bs=512 count=1 iflag=direct 2>/dev/null | \
                grep -q "@PREFIX@-WRITTEN-BY $serial"; then
            echo "@PREFIX@ WROTE $2 serial=$serial"
        else
            echo "@PREFIX@ ERROR $2 write=failed serial=$serial"
        fi
        ;;
    esac
}

# Whatever the firmware and kernel left on the line is not ours.
echo
known=$(disks)
for d in $known; do report DISK $d; done
mkdir -p /etc/acpi/PWRF
cat >/etc/acpi/PWRF/00000080 <<'EOF'
#!/bin/sh
echo "@PREFIX@ POWER-BUTTON" >/dev/console
sync
poweroff -f
EOF
chmod 755 /etc/acpi/PWRF/00000080
# acpid opens the input devices once, as it starts, and a button press
# nobody holds open is lost: start it once the power button's device is
# there, and be READY only once acpid holds it.
n=0
until grep -qs 'Power Button' /sys/class/input/event*/device/name && \
        ls /dev/input/event* >/dev/null 2>&1; do
    [ $n -ge 600 ] && { echo "@PREFIX@ ERROR acpi=no-button"; break; }
    n=$((n + 1))
    sleep 0.1
done
acpid -f -l /tmp/acpid.log &
acpid=$!
n=0
until ls -l /proc/$acpid/fd 2>/dev/null | grep -q /dev/input/event; do
    [ $n -ge 600 ] && { echo "@PREFIX@ ERROR acpi=not-listening"; break; }
    n=$((n + 1))
    sleep 0.1
done
echo "@PREFIX@ READY"

while true; do
    sleep 0.2
    now=$(disks)
    for d in $now; do
        case " $(echo $known) " in *" $d "*) ;; *) report ADDED $d ;; esac
    done
    for d in $known; do
        case " $(echo $now) " in
        *" $d "*) ;;
        *) echo "@PREFIX@ REMOVED $d" ;;
        esac
    done
    known=$now
done
""".replace('@MODULES@', ' '.join(MODULES)).replace(
    '@PREFIX@', PREFIX).replace('@WRITE@', WRITE_SERIAL_PREFIX)

SYSLINUX_CFG = """DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0 quiet
"""

#: one parsed line of the guest: ``event`` (DISK, ADDED, REMOVED, WROTE,
#: READY, POWER-BUTTON, ERROR), ``device`` (or None) and ``fields``, the
#: line's key=value pairs
Event = collections.namedtuple('Event', 'event device fields')

_LINE = re.compile(r'%s ([A-Z-]+)(?: (\S+))?((?: \S+=\S*)*)\s*$' % PREFIX)


def events(output):
    """The guest's lines in console output, in order.

    :param output: what get_console_output returned
    :returns: a list of :class:`Event`
    """
    found = []
    for line in output.splitlines():
        match = _LINE.search(line.strip('\r'))
        if match is None:
            continue
        event, device, rest = match.groups()
        fields = dict(pair.split('=', 1) for pair in rest.split())
        if device is not None and '=' in device:
            fields.update([device.split('=', 1)])
            device = None
        found.append(Event(event, device, fields))
    return found


def written_marker(serial):
    """What the guest writes to the first sector of a write- disk.

    :param serial: the disk's serial, starting with WRITE_SERIAL_PREFIX
    :returns: bytes
    """
    return ('%s-WRITTEN-BY %s\n' % (PREFIX, serial)).encode('ascii')
