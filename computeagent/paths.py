"""Names of the files on a compute node (API.md, "Files on the compute
node"), shared by every driver so they all lay instances out alike.
"""

import os


def instance_dir(instances_path, uuid):
    return os.path.join(instances_path, uuid)


def disk_file(directory, index, target):
    """The first disk is ``disk``; the others ``disk.<target>``."""
    return os.path.join(directory,
                        'disk' if index == 0 else 'disk.%s' % target)


def console_log(directory, port):
    """``console.log`` for port 0, ``console.<port>.log`` for the others."""
    name = 'console.log' if port == 0 else 'console.%d.log' % port
    return os.path.join(directory, name)


def serial_socket(directory, port):
    """The listening socket of a ``unix`` serial port."""
    return os.path.join(directory, 'serial%d.sock' % port)
