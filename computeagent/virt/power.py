"""Power states: what a virt driver reports of a guest.

A record whose guest is there takes its guest's power state as its
instance state (:mod:`computeagent.compute.states` adds the agent's own,
``building`` and ``error``, and says what each state allows).
"""

RUNNING = 'running'
PAUSED = 'paused'
SUSPENDED = 'suspended'
SHUTOFF = 'shutoff'
CRASHED = 'crashed'

#: every state a driver reports of a guest it has
POWER_STATES = (RUNNING, PAUSED, SUSPENDED, SHUTOFF, CRASHED)
#: what a driver reports of a guest the hypervisor does not know
NOSTATE = None
