"""Serial and parallel port policy: chardev backends, their files and
the console.

Every file a port uses lives in the instance directory, named by
:func:`computeagent.virt.layout.port_files`: for serial ports
``console.log`` for port 0 and ``console.<port>.log`` for the others,
for parallel ports ``parallel<port>.log``, whether the port is a
``file`` chardev or another with ``log``; sockets and FIFOs after the
kind of port too. libvirt hands the logs to virtlogd, which caps and
rotates them; ``append='on'`` keeps the history across guest restarts.

The spec is a validated one (:mod:`computeagent.schema.instance`): its
types are known, a tcp or udp port has its host and port, and the udp
port's host is one the configuration allows.
"""

from computeagent.virt import layout
from computeagent_libvirt.config import devices as device_config


def _fill(dev, serial, kind, port, instance_dir):
    files = layout.port_files(instance_dir, kind, port, serial)
    kind = serial.type
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
    elif kind == 'udp':
        dev.source_host = serial.host
        dev.source_service = str(serial.port)
        dev.bind_host = serial.bind_host
        if serial.bind_port is not None:
            dev.bind_service = str(serial.bind_port)
    elif kind == 'pipe':
        # QEMU opens <path>.in and <path>.out, which the driver makes
        # before the guest starts (see make_pipes).
        dev.source_path = files['path']
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
        dev = _fill(device_config.Serial(), serial, layout.SERIAL, port,
                    instance_dir)
        dev.target_port = port
        devices.append(dev)
    if spec.serial_ports:
        console = _fill(device_config.Console(), spec.serial_ports[0],
                        layout.SERIAL, 0, instance_dir)
        console.target_type = 'serial'
        console.target_port = 0
        devices.append(console)
    return devices


def design_parallels(spec, instance_dir):
    """The <parallel> devices of the spec, LPT1 first.

    :param spec: the InstanceSpec
    :param instance_dir: the instance's directory
    :returns: list of device_config.Parallel
    """
    devices = []
    for port, parallel in enumerate(spec.parallel_ports):
        dev = _fill(device_config.Parallel(), parallel, layout.PARALLEL,
                    port, instance_dir)
        dev.target_port = port
        devices.append(dev)
    return devices


def pipe_fifos(spec, instance_dir):
    """The FIFOs the pipe ports of a spec need, serial ports first.

    :param spec: the InstanceSpec
    :param instance_dir: the instance's directory
    :returns: list of paths, ``<kind><port>.in`` and ``.out`` of each pipe
        port
    """
    paths = []
    for kind, ports in ((layout.SERIAL, spec.serial_ports),
                        (layout.PARALLEL, spec.parallel_ports)):
        for port, chardev in enumerate(ports):
            if chardev.type == 'pipe':
                paths.extend(layout.pipe_fifos(
                    layout.port_pipe(instance_dir, kind, port)))
    return paths
