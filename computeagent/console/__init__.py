"""The interactive serial console: its tokens and the console proxy.

The agent issues a token for a serial port (get_serial_console); the
console proxy (``computeagent-console-proxy``), a process of its own on
the same node, claims it and joins a websocket to the port's chardev.
They share nothing but the token directory (:mod:`.tokens`).
"""
