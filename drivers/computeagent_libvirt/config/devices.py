"""Configuration objects of the non-storage devices.

Character devices (serial ports and the console), video, graphics,
network interfaces and the memory balloon. Fields in, XML out and back;
no policy (see :mod:`computeagent_libvirt.config.base`).
"""

from computeagent_libvirt.config import base

#: chardev types whose <source> has fields here; another's is kept whole
_SOURCE_TYPES = ('file', 'pty', 'unix', 'tcp', 'pipe')


class CharDevice(base.ConfigObject):
    """Base of <serial>, <console>, <parallel>: a chardev and its target.

    Which fields are rendered follows ``type``:

    - ``file``: ``<source path=... append=...>``
    - ``pty``: no source, but the live XML's ``<source path=...>`` (the
      pty libvirt allocated) when ``source_path`` is set
    - ``unix``: ``<source mode=... path=...>``
    - ``tcp``: ``<source mode=... host=... service=...>`` and
      ``<protocol type=...>``
    - ``udp``: ``<source mode='bind' host=... service=...>`` (when
      ``bind_host`` or ``bind_service`` is set) and ``<source
      mode='connect' host=... service=...>`` (``source_host`` and
      ``source_service``: where the bytes go)
    - ``pipe``: ``<source path=...>``, the base name of the FIFOs
      ``<path>.in`` and ``<path>.out``
    - ``null``: no source

    ``log_file`` adds ``<log file=... append=...>`` for any type.
    """

    def __init__(self):
        super().__init__()
        self.type = 'pty'
        self.source_path = None
        #: True/False renders append='on'/'off' on a file source
        self.source_append = None
        #: 'bind' (server) or 'connect' for unix and tcp sources
        self.source_mode = None
        self.source_host = None
        self.source_service = None
        #: tcp protocol: 'raw', 'telnet', ...
        self.protocol = None
        #: a udp chardev's local end
        self.bind_host = None
        self.bind_service = None
        self.log_file = None
        self.log_append = None
        self.target_type = None
        self.target_port = None

    def format_dom(self):
        root = super().format_dom()
        root.set('type', self.type)
        if self.type == 'file':
            base.sub_element(root, 'source', path=self.source_path,
                             append=base.on_off(self.source_append))
        elif self.type == 'pty' and self.source_path is not None:
            base.sub_element(root, 'source', path=self.source_path)
        elif self.type == 'unix':
            base.sub_element(root, 'source', mode=self.source_mode,
                             path=self.source_path)
        elif self.type == 'tcp':
            base.sub_element(root, 'source', mode=self.source_mode,
                             host=self.source_host,
                             service=self.source_service)
            if self.protocol is not None:
                base.sub_element(root, 'protocol', type=self.protocol)
        elif self.type == 'udp':
            if self.bind_host is not None or self.bind_service is not None:
                base.sub_element(root, 'source', mode='bind',
                                 host=self.bind_host,
                                 service=self.bind_service)
            base.sub_element(root, 'source', mode='connect',
                             host=self.source_host,
                             service=self.source_service)
        elif self.type == 'pipe':
            base.sub_element(root, 'source', path=self.source_path)
        if self.log_file is not None:
            base.sub_element(root, 'log', file=self.log_file,
                             append=base.on_off(self.log_append))
        base.sub_element(root, 'target', type=self.target_type,
                         port=self.target_port)
        self.format_extra(root)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        children = base.Children(element)
        self.type = element.get('type')
        source = (children.take('source') if self.type in _SOURCE_TYPES
                  else None)
        if source is not None:
            self.source_path = source.get('path')
            self.source_append = base.parse_flag(source.get('append'))
            self.source_mode = source.get('mode')
            self.source_host = source.get('host')
            self.source_service = source.get('service')
        if self.type == 'tcp':
            self.protocol = base.attr_of(children.take('protocol'), 'type')
        if self.type == 'udp':
            bind = children.take(
                'source', when=lambda e: e.get('mode') == 'bind')
            connect = children.take(
                'source', when=lambda e: e.get('mode') != 'bind')
            self.bind_host = base.attr_of(bind, 'host')
            self.bind_service = base.attr_of(bind, 'service')
            self.source_host = base.attr_of(connect, 'host')
            self.source_service = base.attr_of(connect, 'service')
        log = children.take('log')
        if log is not None:
            self.log_file = log.get('file')
            self.log_append = base.parse_flag(log.get('append'))
        target = children.take('target')
        if target is not None:
            self.target_type = target.get('type')
            self.target_port = base.parse_int(target.get('port'))
        self.extra = children.rest()


class Serial(CharDevice):
    """<serial>: a guest serial port (target port N is ttyS<N>)."""

    root_name = 'serial'


class Parallel(CharDevice):
    """<parallel>: a guest parallel port (target port N is LPT<N+1>)."""

    root_name = 'parallel'


class Console(CharDevice):
    """<console>: the guest console; target type 'serial' for port 0."""

    root_name = 'console'


class Video(base.ConfigObject):
    """<video><model type=.../></video>; type 'none' means no adapter."""

    root_name = 'video'

    def __init__(self, model='none'):
        super().__init__()
        self.model = model

    def format_dom(self):
        root = super().format_dom()
        base.sub_element(root, 'model', type=self.model)
        self.format_extra(root)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        children = base.Children(element)
        self.model = base.attr_of(children.take('model'), 'type')
        self.extra = children.rest()


class Graphics(base.ConfigObject):
    """<graphics>: a VNC server listening on an address."""

    root_name = 'graphics'

    def __init__(self, graphics_type='vnc', listen=None, autoport=True,
                 port=None):
        super().__init__()
        self.type = graphics_type
        self.listen = listen
        self.autoport = autoport
        self.port = port

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(base.attributes({
            'type': self.type, 'port': self.port,
            'autoport': base.yes_no(self.autoport)}))
        if self.listen is not None:
            base.sub_element(root, 'listen', type='address',
                             address=self.listen)
        self.format_extra(root)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        children = base.Children(element)
        self.type = element.get('type')
        self.port = base.parse_int(element.get('port'))
        self.autoport = base.parse_flag(element.get('autoport'))
        self.listen = base.attr_of(children.take(
            'listen', lambda e: e.get('type') == 'address'), 'address')
        self.extra = children.rest()


class Interface(base.ConfigObject):
    """<interface>: a NIC of type user, network or bridge."""

    root_name = 'interface'

    def __init__(self):
        super().__init__()
        #: 'user', 'network' or 'bridge'
        self.type = 'user'
        self.mac = None
        #: the libvirt network name (type network)
        self.source_network = None
        #: the host bridge name (type bridge)
        self.source_bridge = None
        self.model = None
        self.boot_order = None

    def format_dom(self):
        root = super().format_dom()
        root.set('type', self.type)
        if self.mac is not None:
            base.sub_element(root, 'mac', address=self.mac)
        if self.source_network is not None:
            base.sub_element(root, 'source', network=self.source_network)
        elif self.source_bridge is not None:
            base.sub_element(root, 'source', bridge=self.source_bridge)
        if self.model is not None:
            base.sub_element(root, 'model', type=self.model)
        if self.boot_order is not None:
            base.sub_element(root, 'boot', order=self.boot_order)
        self.format_extra(root)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        children = base.Children(element)
        self.type = element.get('type')
        self.mac = base.attr_of(children.take('mac'), 'address')
        if self.type in ('network', 'bridge'):
            source = children.take('source')
            self.source_network = (base.attr_of(source, 'network')
                                   if self.type == 'network' else None)
            self.source_bridge = (base.attr_of(source, 'bridge')
                                  if self.type == 'bridge' else None)
        self.model = base.attr_of(children.take('model'), 'type')
        self.boot_order = base.parse_int(
            base.attr_of(children.take('boot'), 'order'))
        self.extra = children.rest()


class MemBalloon(base.ConfigObject):
    """<memballoon model=.../>; model 'none' means no balloon device."""

    root_name = 'memballoon'

    def __init__(self, model='none'):
        super().__init__()
        self.model = model

    def format_dom(self):
        root = super().format_dom()
        root.set('model', self.model)
        self.format_extra(root)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        self.model = element.get('model')
        self.extra = base.Children(element).rest()
