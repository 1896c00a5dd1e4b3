"""The request rules of serial and parallel ports.

docs/api.md, "Serial spec", states them.

Both kinds of port take the same chardev backends and keys; tcp and udp
ports of either kind may not listen on one address and port.
"""

import ipaddress
import re

from computeagent.objects import spec as spec_obj
from computeagent.schema import disks as fields

SERIAL_TYPES = ('file', 'pty', 'unix', 'tcp', 'udp', 'pipe', 'null')
#: parallel ports take the serial ports' backends (libvirt allows them all)
PARALLEL_TYPES = SERIAL_TYPES
MAX_SERIAL_PORTS = 4
# The ISA parallel ports QEMU's pc machines have: LPT1 to LPT3.
MAX_PARALLEL_PORTS = 3

# The keys each serial (and parallel) type takes besides ``type``, and
# the value of each extra key that means "not used" (accepted on any
# type).
_SERIAL_EXTRAS = {'file': (), 'null': (), 'pty': ('log',),
                  'unix': ('log',), 'pipe': ('log',),
                  'tcp': ('host', 'port', 'log'),
                  'udp': ('host', 'port', 'bind_host', 'bind_port', 'log')}
_SERIAL_UNUSED = {'log': False, 'host': None, 'port': None,
                  'bind_host': None, 'bind_port': None}
# The host names that always mean this host's loopback.
_LOOPBACK_NAMES = ('localhost',)
_WILDCARDS = ('0.0.0.0', '::')
_LABEL_RE = re.compile(r'[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?')


def _host(value, field):
    fields.string(value, field, 253)
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.split('.')
    # An all-numeric last label would be a mistyped address, not a name.
    if (not all(_LABEL_RE.fullmatch(label) for label in labels) or
            labels[-1].isdigit()):
        fields.fail(field, 'is neither an IP address nor a host name')
    return value


def serial_port(port, field, conf, types=SERIAL_TYPES):
    """A serial or parallel port spec, normalized.

    :param field: the port's path in errors (``parallel_ports[1]``)
    :param conf: the ConfigOpts to read ``[serial] udp_allowed_hosts``
    :param types: the port types allowed here
    :returns: a SerialPortSpec
    """
    fields.mapping(port, field, ('type',) + tuple(_SERIAL_UNUSED),
                   ('type',))
    kind = fields.choice(port['type'], field + '.type', types)
    extras = _SERIAL_EXTRAS[kind]
    for key, unused in _SERIAL_UNUSED.items():
        if key in port and key not in extras and port[key] is not unused:
            fields.fail('%s.%s' % (field, key),
                        'is not used by a %s port' % kind)
    result = {'type': kind}
    if 'log' in extras:
        result['log'] = fields.default(port, 'log', field, False,
                                       fields.boolean)
    if kind in ('tcp', 'udp'):
        result['host'] = (fields.optional(port, 'host', field, _host) or
                          '127.0.0.1')
        if port.get('port') is None:
            fields.fail(field + '.port', 'is required for a %s port' % kind)
        result['port'] = fields.integer(port['port'], field + '.port',
                                        1, 65535)
    if kind == 'udp':
        _check_udp_host(result['host'], field + '.host', conf)
        # Where the guest's input is received. Beside a loopback remote
        # the default is the remote's own address, so no port opens
        # beyond this host unless asked for (and the address family is
        # the remote's); otherwise the system's choice, the wildcard
        # address of the remote's family.
        result['bind_host'] = fields.optional(port, 'bind_host', field,
                                              _host)
        if result['bind_host'] is None and _is_loopback(result['host']):
            result['bind_host'] = result['host']
        result['bind_port'] = fields.optional(
            port, 'bind_port', field,
            lambda value, where: fields.integer(value, where, 1, 65535))
    return spec_obj.SerialPortSpec(**result)


def _is_loopback(host):
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_udp_host(host, field, conf):
    allowed = [h.strip().lower() for h in conf.serial.udp_allowed_hosts]
    if host.lower() not in allowed:
        fields.fail(field, '%s is not a host udp ports may send to '
                    '([serial] udp_allowed_hosts = %s)'
                    % (host, ', '.join(conf.serial.udp_allowed_hosts)
                       or '<empty>'))


def check_bound_ports(ports):
    """No two ports listen on one address and port of one protocol.

    tcp ports listen on ``host``:``port``, udp ports receive on
    ``bind_host``:``bind_port`` when a bind port is given (the system
    picks a free one otherwise); a wildcard address (or a udp port's
    unset ``bind_host``) clashes with every address.

    :param ports: (field, SerialPortSpec) of every serial and parallel
        port
    :raises: InvalidSpec naming the later port's port field
    """
    bound = []
    for field, port in ports:
        if port.type == 'tcp':
            host, number, where = port.host, port.port, field + '.port'
        elif port.type == 'udp' and port.bind_port is not None:
            host, number = port.bind_host or '0.0.0.0', port.bind_port
            where = field + '.bind_port'
        else:
            continue
        key = host.lower()
        for protocol, other_key, other_number, other_field in bound:
            if (protocol == port.type and other_number == number and (
                    key == other_key or key in _WILDCARDS or
                    other_key in _WILDCARDS)):
                fields.fail(where, '%s %s:%d is already used by %s'
                            % (protocol, host, number, other_field))
        bound.append((port.type, key, number, field))
