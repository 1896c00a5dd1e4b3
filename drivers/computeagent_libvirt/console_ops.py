"""Where a console joins a guest's serial port, from the live domain.

The live XML is the truth: a pty port's device is known only once QEMU
has allocated it (a new one at each start), and a unix or tcp port's
socket is what the running QEMU listens on.
"""

from computeagent import exception
from computeagent.objects import console
from computeagent_libvirt.config import devices
from computeagent_libvirt import domain


def serial_console(host, uuid, port):
    """The ConsoleTarget of serial port ``port`` of the running guest.

    :param host: the computeagent_libvirt.host.Host
    :raises: DriverError if the live domain has no such port, or a pty
        without its device
    """
    guest = domain.get(host, uuid).guest()
    for serial in guest.find_devices(devices.Serial):
        if serial.target_port != port:
            continue
        if serial.type == 'unix' and serial.source_path:
            return console.ConsoleTarget(kind='unix',
                                         path=serial.source_path)
        if serial.type == 'tcp' and serial.source_service:
            return console.ConsoleTarget(kind='tcp',
                                         host=serial.source_host,
                                         port=int(serial.source_service))
        if serial.type == 'pty' and serial.source_path:
            return console.ConsoleTarget(kind='pty',
                                         path=serial.source_path)
        raise exception.DriverError(
            reason='serial port %d of %s is a %s chardev without a host '
            'end a console can join' % (port, uuid, serial.type))
    raise exception.DriverError(
        reason='the running guest of %s has no serial port %d' % (uuid, port))
