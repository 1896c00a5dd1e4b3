"""Tiny bootable test images, built at test time with no downloads.

A boot sector here is x86 real-mode machine code written as Python bytes
(no assembler needed) that prints a marker to COM1 (I/O port 0x3f8, one
``out`` per byte) and halts, so a functional test can tell from the serial
log which disk the firmware really booted. The code is, in nasm syntax::

    mov dx, 0x3f8       ; BA F8 03
    mov al, 'X'         ; B0 58     } once per marker byte
    out dx, al          ; EE        }
    cli                 ; FA
    hlt                 ; F4
    jmp $-1             ; EB FD     (back to hlt, should an NMI wake us)

The MBR carries one partition entry (bootable, type 0x83, LBA 1 to the end
of the disk): oslo.utils' format inspector names an MBR disk ``gpt`` and
its ``mbr`` safety check refuses a table with no entry.

Importable by unit and functional tests alike; only qemu-img and xorriso
are needed, and only by the helpers that say so.
"""

import os
import shutil
import struct
import subprocess
import tempfile

SECTOR = 512
MIB = 1024 * 1024
COM1 = 0x3f8
# PIIX4 ACPI PM1a control register as SeaBIOS sets it up on QEMU's "pc"
# machine; writing SLP_EN (bit 13) with SLP_TYP 0 powers the guest off.
ACPI_PM1A_CNT = 0x604
ACPI_SLEEP = 0x2000
_PARTITION_TABLE = 446
# Room for code before the partition table: 3 bytes to load the port,
# 3 per marker byte, and 4 (or 7 more for power-off) at the end.
MAX_MARKER = (_PARTITION_TABLE - 3 - 4 - 7) // 3


def _print_code(marker):
    if not isinstance(marker, bytes):
        raise TypeError('marker must be bytes')
    if len(marker) > MAX_MARKER:
        raise ValueError('marker longer than %d bytes' % MAX_MARKER)
    code = b'\xba' + struct.pack('<H', COM1)          # mov dx, 0x3f8
    for byte in marker:
        code += bytes((0xb0, byte, 0xee))              # mov al, b; out dx, al
    return code


_HALT = b'\xfa\xf4\xeb\xfd'                            # cli; hlt; jmp $-1


def _poweroff_code():
    return (b'\xba' + struct.pack('<H', ACPI_PM1A_CNT)  # mov dx, 0x604
            + b'\xb8' + struct.pack('<H', ACPI_SLEEP)   # mov ax, 0x2000
            + b'\xef')                                 # out dx, ax


def _sector(code, disk_sectors):
    sector = bytearray(SECTOR)
    sector[:len(code)] = code
    # One partition entry: bootable, CHS left zero (unused by LBA
    # firmware), type 0x83 (Linux), from LBA 1 to the end of the disk.
    size = max(disk_sectors - 1, 1)
    sector[_PARTITION_TABLE:_PARTITION_TABLE + 16] = struct.pack(
        '<B3BB3BII', 0x80, 0, 0, 0, 0x83, 0, 0, 0, 1, size)
    sector[510:512] = b'\x55\xaa'
    return bytes(sector)


def make_boot_sector(marker, disk_sectors=2048):
    """A 512-byte MBR that prints ``marker`` to COM1 and halts.

    :param marker: bytes to print, at most MAX_MARKER of them
    :param disk_sectors: size of the disk the partition entry describes
    :returns: 512 bytes ending in 55 AA with one partition entry
    """
    return _sector(_print_code(marker) + _HALT, disk_sectors)


def make_poweroff_sector(marker=b'', disk_sectors=2048):
    """Like :func:`make_boot_sector`, but powers the guest off via ACPI.

    Works on QEMU's i440fx ("pc") machine with SeaBIOS, which places the
    PIIX4 PM registers at 0x600.
    """
    return _sector(_print_code(marker) + _poweroff_code() + _HALT,
                   disk_sectors)


def write_raw_image(path, marker, size_mb=1, poweroff=False):
    """Write a sparse raw disk of ``size_mb`` MiB that boots to ``marker``.

    :returns: ``path``
    """
    sectors = size_mb * MIB // SECTOR
    if poweroff:
        sector = make_poweroff_sector(marker, sectors)
    else:
        sector = make_boot_sector(marker, sectors)
    with open(path, 'wb') as f:
        f.write(sector)
        f.truncate(size_mb * MIB)
    return path


def write_qcow2_image(path, marker, size_mb=1):
    """Write a qcow2 disk (no backing file) that boots to ``marker``.

    Needs qemu-img.

    :returns: ``path``
    """
    with tempfile.TemporaryDirectory() as tmp:
        raw = write_raw_image(os.path.join(tmp, 'disk.raw'), marker, size_mb)
        subprocess.run(['qemu-img', 'convert', '-q', '-f', 'raw',
                        '-O', 'qcow2', raw, path], check=True)
    return path


def make_iso(path, marker):
    """Write an ISO 9660 image that boots to ``marker`` from a cdrom.

    The boot image is El Torito "no emulation": 2048 bytes (four 512-byte
    sectors, ``-boot-load-size 4``) loaded at 0x7c00 and jumped to, so the
    boot sector code runs unchanged. Needs xorriso.

    :returns: ``path``
    """
    boot = make_boot_sector(marker).ljust(2048, b'\0')
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, 'tree')
        os.mkdir(tree)
        with open(os.path.join(tree, 'boot.bin'), 'wb') as f:
            f.write(boot)
        with open(os.path.join(tree, 'README'), 'w') as f:
            f.write('computeagent test image\n')
        subprocess.run([shutil.which('xorriso') or 'xorriso',
                        '-as', 'mkisofs', '-quiet', '-o', path,
                        '-V', 'CATEST', '-b', 'boot.bin', '-no-emul-boot',
                        '-boot-load-size', '4', tree],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return path
