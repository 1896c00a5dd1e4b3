"""Configuration objects of the non-storage devices.

Character devices (serial ports and the console), video, graphics,
network interfaces and the memory balloon. Fields in, XML out; no policy
(see :mod:`computeagent_libvirt.config.guest`).
"""

from computeagent_libvirt.config import guest as guest_config


class CharDevice(guest_config.ConfigObject):
    """Base of <serial> and <console>: a chardev backend and its target.

    Which fields are rendered follows ``type``:

    - ``file``: ``<source path=... append=...>``
    - ``pty``: no source
    - ``unix``: ``<source mode=... path=...>``
    - ``tcp``: ``<source mode=... host=... service=...>`` and
      ``<protocol type=...>``
    - ``null``: no source

    ``log_file`` adds ``<log file=... append=...>`` for any type.
    """

    def __init__(self):
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
        self.log_file = None
        self.log_append = None
        self.target_type = None
        self.target_port = None

    def format_dom(self):
        root = super().format_dom()
        root.set('type', self.type)
        if self.type == 'file':
            guest_config.sub_element(root, 'source', path=self.source_path,
                                     append=_on_off(self.source_append))
        elif self.type == 'unix':
            guest_config.sub_element(root, 'source', mode=self.source_mode,
                                     path=self.source_path)
        elif self.type == 'tcp':
            guest_config.sub_element(root, 'source', mode=self.source_mode,
                                     host=self.source_host,
                                     service=self.source_service)
            if self.protocol is not None:
                guest_config.sub_element(root, 'protocol', type=self.protocol)
        if self.log_file is not None:
            guest_config.sub_element(root, 'log', file=self.log_file,
                                     append=_on_off(self.log_append))
        guest_config.sub_element(root, 'target', type=self.target_type,
                                 port=self.target_port)
        return root


def _on_off(flag):
    if flag is None:
        return None
    return 'on' if flag else 'off'


class Serial(CharDevice):
    """<serial>: a guest serial port (target port N is ttyS<N>)."""

    root_name = 'serial'


class Console(CharDevice):
    """<console>: the guest console; target type 'serial' for port 0."""

    root_name = 'console'


class Video(guest_config.ConfigObject):
    """<video><model type=.../></video>; type 'none' means no adapter."""

    root_name = 'video'

    def __init__(self, model='none'):
        self.model = model

    def format_dom(self):
        root = super().format_dom()
        guest_config.sub_element(root, 'model', type=self.model)
        return root


class Graphics(guest_config.ConfigObject):
    """<graphics>: a VNC server listening on an address."""

    root_name = 'graphics'

    def __init__(self, graphics_type='vnc', listen=None, autoport=True,
                 port=None):
        self.type = graphics_type
        self.listen = listen
        self.autoport = autoport
        self.port = port

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(guest_config.attributes({
            'type': self.type, 'port': self.port,
            'autoport': guest_config.yes_no(self.autoport)}))
        if self.listen is not None:
            guest_config.sub_element(root, 'listen', type='address',
                                     address=self.listen)
        return root


class Interface(guest_config.ConfigObject):
    """<interface>: a NIC of type user, network or bridge."""

    root_name = 'interface'

    def __init__(self):
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
            guest_config.sub_element(root, 'mac', address=self.mac)
        if self.source_network is not None:
            guest_config.sub_element(root, 'source',
                                     network=self.source_network)
        elif self.source_bridge is not None:
            guest_config.sub_element(root, 'source', bridge=self.source_bridge)
        if self.model is not None:
            guest_config.sub_element(root, 'model', type=self.model)
        if self.boot_order is not None:
            guest_config.sub_element(root, 'boot', order=self.boot_order)
        return root


class MemBalloon(guest_config.ConfigObject):
    """<memballoon model=.../>; model 'none' means no balloon device."""

    root_name = 'memballoon'

    def __init__(self, model='none'):
        self.model = model

    def format_dom(self):
        root = super().format_dom()
        root.set('model', self.model)
        return root
