"""computeagent: a compute-node agent for QEMU/KVM guests through libvirt."""
