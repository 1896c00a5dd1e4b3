"""Serial port policy: chardev backends, their files and the console.

Every file a serial port writes lives in the instance directory, named
by :func:`computeagent.virt.layout.serial_files`: ``console.log`` for
port 0 and ``console.<port>.log`` for the others, whether the port is a
``file`` chardev or a ``pty``/``unix``/``tcp`` one with ``log``. libvirt
hands these files to virtlogd, which caps and rotates them;
``append='on'`` keeps the history across guest restarts.

The spec is a validated one (:mod:`computeagent.schema.instance`): its
types are known and a tcp port has its host and port.
"""

from computeagent.virt import layout
from computeagent_libvirt.config import devices as device_config


def _fill(dev, serial, port, instance_dir):
    kind = serial.type
    files = layout.serial_files(instance_dir, port, serial)
    dev.type = kind
    if kind == 'file':
        dev.source_path = files['path']
        dev.source_append = True
    elif kind == 'unix':
        # bind: libvirt makes QEMU the server and never waits for a
        # client ("server,nowait"), so the guest boots unattended.
        dev.source_mode = 'bind'
        dev.source_path = files['path']
    elif kind == 'tcp':
        dev.source_mode = 'bind'
        dev.source_host = serial.host
        dev.source_service = str(serial.port)
        # raw, not telnet: the byte stream is the guest's, unaltered.
        dev.protocol = 'raw'
    if kind != 'file' and files['log_file'] is not None:
        dev.log_file = files['log_file']
        dev.log_append = True
    return dev


def design_serials(spec, instance_dir):
    """The <serial> devices of the spec, plus the <console> of port 0.

    libvirt mirrors serial port 0 as the console (target type serial);
    the console is given explicitly with the same backend so the domain
    XML read back equals the one defined.

    :param spec: the InstanceSpec
    :param instance_dir: the instance's directory
    :returns: list of device_config.Serial and Console, serials first
    """
    devices = []
    for port, serial in enumerate(spec.serial_ports):
        dev = _fill(device_config.Serial(), serial, port, instance_dir)
        dev.target_port = port
        devices.append(dev)
    if spec.serial_ports:
        console = _fill(device_config.Console(), spec.serial_ports[0],
                        0, instance_dir)
        console.target_type = 'serial'
        console.target_port = 0
        devices.append(console)
    return devices
