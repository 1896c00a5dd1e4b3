"""Serial port policy: chardev backends, their files and the console.

Every file a serial port writes lives in the instance directory:
``console.log`` for port 0 and ``console.<port>.log`` for the others,
whether the port is a ``file`` chardev or a ``pty``/``unix``/``tcp`` one
with ``log``. libvirt hands these files to virtlogd, which caps and
rotates them; ``append='on'`` keeps the history across guest restarts.
"""

from computeagent import exception
from computeagent.virt import layout
from computeagent_libvirt.config import devices as device_config

SERIAL_TYPES = ('file', 'pty', 'unix', 'tcp', 'null')
#: the tcp chardev's listen address when the spec names none
DEFAULT_TCP_HOST = '127.0.0.1'


def log_path(instance_dir, port):
    """The log file of serial port ``port``.

    :returns: ``<instance_dir>/console.log`` for port 0, else
        ``<instance_dir>/console.<port>.log``
    """
    return layout.console_log(instance_dir, port)


def socket_path(instance_dir, port):
    """The listening socket of a ``unix`` serial port."""
    return layout.serial_socket(instance_dir, port)


def _fill(dev, serial, port, instance_dir):
    kind = serial['type']
    if kind not in SERIAL_TYPES:
        raise exception.InvalidSpec(field='serial_ports[%d].type' % port,
                                    reason='unknown type %r' % kind)
    dev.type = kind
    if kind == 'file':
        dev.source_path = log_path(instance_dir, port)
        dev.source_append = True
    elif kind == 'unix':
        # bind: libvirt makes QEMU the server and never waits for a
        # client ("server,nowait"), so the guest boots unattended.
        dev.source_mode = 'bind'
        dev.source_path = socket_path(instance_dir, port)
    elif kind == 'tcp':
        if serial.get('port') is None:
            raise exception.InvalidSpec(
                field='serial_ports[%d].port' % port,
                reason='a tcp serial port needs a port number')
        dev.source_mode = 'bind'
        dev.source_host = serial.get('host') or DEFAULT_TCP_HOST
        dev.source_service = str(serial['port'])
        # raw, not telnet: the byte stream is the guest's, unaltered.
        dev.protocol = 'raw'
    if kind in ('pty', 'unix', 'tcp') and serial.get('log'):
        dev.log_file = log_path(instance_dir, port)
        dev.log_append = True
    return dev


def design_serials(spec, instance_dir):
    """The <serial> devices of the spec, plus the <console> of port 0.

    libvirt mirrors serial port 0 as the console (target type serial);
    the console is given explicitly with the same backend so the domain
    XML read back equals the one defined.

    :param spec: the normalized instance spec
    :param instance_dir: the instance's directory
    :returns: list of device_config.Serial and Console, serials first
    :raises: InvalidSpec for an unknown type or a tcp port without port
    """
    devices = []
    for port, serial in enumerate(spec['serial_ports']):
        dev = _fill(device_config.Serial(), serial, port, instance_dir)
        dev.target_port = port
        devices.append(dev)
    if spec['serial_ports']:
        console = _fill(device_config.Console(), spec['serial_ports'][0],
                        0, instance_dir)
        console.target_type = 'serial'
        console.target_port = 0
        devices.append(console)
    return devices
