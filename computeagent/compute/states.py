"""Instance states of API.md and which operations each one allows.

The power states are also what a virt driver reports of a guest
(:mod:`computeagent.virt.driver` names them from here): a record whose
guest is there takes its guest's state.
"""

BUILDING = 'building'
RUNNING = 'running'
PAUSED = 'paused'
SUSPENDED = 'suspended'
SHUTOFF = 'shutoff'
CRASHED = 'crashed'
ERROR = 'error'

ALL = (BUILDING, RUNNING, PAUSED, SUSPENDED, SHUTOFF, CRASHED, ERROR)

#: the states a driver reports of a guest it has
POWER_STATES = (RUNNING, PAUSED, SUSPENDED, SHUTOFF, CRASHED)
#: what a driver reports of a guest the hypervisor does not know
NOSTATE = None

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
}
