"""Instance states of docs/api.md and which operations each one allows.

A record whose guest is there takes its guest's power state
(:mod:`computeagent.virt.power`, what drivers report); the agent adds
its own two, ``building`` and ``error``.
"""

from computeagent.virt import power

BUILDING = 'building'
ERROR = 'error'
RUNNING = power.RUNNING
PAUSED = power.PAUSED
SUSPENDED = power.SUSPENDED
SHUTOFF = power.SHUTOFF
CRASHED = power.CRASHED
#: what a driver reports of a guest the hypervisor does not know
NOSTATE = power.NOSTATE

ALL = (BUILDING,) + power.POWER_STATES + (ERROR,)

# Operation -> states it may start from. A hard reboot is the operator's
# way out of a stuck guest, so it is allowed from almost anywhere; a soft
# reboot needs a running guest to answer ACPI.
ALLOWED = {
    'delete': ALL,
    'reboot': (RUNNING,),
    'reboot_hard': (RUNNING, PAUSED, SHUTOFF, CRASHED, ERROR),
    'stop': (RUNNING, PAUSED, CRASHED, ERROR),
    'start': (SHUTOFF, CRASHED),
    'pause': (RUNNING,),
    'unpause': (PAUSED,),
    'suspend': (RUNNING, PAUSED),
    'resume': (SUSPENDED,),
    'attach_disk': (RUNNING, PAUSED, SHUTOFF),
    'detach_disk': (RUNNING, PAUSED, SHUTOFF),
    'change_media': (RUNNING, PAUSED, SHUTOFF),
    # The temporary overlay of a snapshot disk only exists while the
    # guest runs; once stopped its changes are gone.
    'commit_disk': (RUNNING, PAUSED),
    # The persistent definition changes, whatever the guest does; a
    # suspended guest's saved state and an error's unknown one are left
    # alone.
    'set_boot_order': (RUNNING, PAUSED, SHUTOFF, CRASHED),
    # A guest that runs (or is paused) moves; a stopped one has nothing
    # to move but its record.
    'live_migrate': (RUNNING, PAUSED),
    # Only a guest's QEMU has the chardev a console joins.
    'get_serial_console': (RUNNING, PAUSED),
}
