"""Tiny bootable test images, built at test time with no downloads.

A boot sector here is x86 real-mode machine code written as Python bytes
(no assembler needed) that prints a marker to COM1 (I/O port 0x3f8, one
``out`` per byte; :func:`make_parallel_sector` writes to LPT1) and
halts, so a functional test can tell from the serial log which disk the
firmware really booted. The code is, in nasm syntax::

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


def _code_then_line(code, marker):
    """Code that prints the NUL-ended line after it: ``marker``, CR LF.

    :raises: TypeError, ValueError for a marker that does not fit
    """
    if not isinstance(marker, bytes):
        raise TypeError('marker must be bytes')
    if b'\0' in marker:
        raise ValueError('the marker may not contain NUL')
    code = code + marker + b'\r\n\0'
    if len(code) > _PARTITION_TABLE:
        raise ValueError('marker longer than %d bytes'
                         % (_PARTITION_TABLE - len(code) + len(marker)))
    return code


def _write_image(path, sector, size):
    """Write a sparse raw image of ``size`` bytes starting with ``sector``.

    :returns: ``path``
    """
    with open(path, 'wb') as f:
        f.write(sector)
        f.truncate(size)
    return path


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
    return _write_image(path, sector, size_mb * MIB)


# The boot sector of make_parallel_sector. QEMU's parallel port (in
# software mode, any chardev but a host parport) sends the data register
# to its chardev on the rising edge of STROBE (bit 0 of the control
# register at 0x37a) while SELECT (bit 3) and INIT (bit 2, active low)
# are set (hw/char/parallel.c, parallel_ioport_write_sw); the control
# register starts as SELECT|INIT. So each byte is written to 0x378, then
# STROBE raised and dropped again. In nasm syntax::
#
#     mov dx, 0x378       ; BA 78 03
#     mov al, 'X'         ; B0 58     } once per marker byte
#     out dx, al          ; EE        }  the data register
#     mov dl, 0x7a        ; B2 7A     }  dx = 0x37a, the control register
#     mov al, 0x0d        ; B0 0D     }  SELECT|INIT|STROBE: sent
#     out dx, al          ; EE        }
#     mov al, 0x0c        ; B0 0C     }  SELECT|INIT: ready for the next
#     out dx, al          ; EE        }
#     mov dl, 0x78        ; B2 78     }  dx = 0x378 again
#     cli                 ; FA
#     hlt                 ; F4
#     jmp $-1             ; EB FD
LPT1 = 0x378
_LPT_SELECT_INIT = 0x0c
_LPT_STROBE = 0x01
# 3 bytes to load the port, 13 per marker byte, 4 to halt.
MAX_PARALLEL_MARKER = (_PARTITION_TABLE - 3 - 4) // 13


def make_parallel_sector(marker, disk_sectors=2048):
    """A 512-byte MBR that writes ``marker`` to LPT1 and halts.

    :param marker: bytes to write, at most MAX_PARALLEL_MARKER of them
    :param disk_sectors: size of the disk the partition entry describes
    :returns: 512 bytes ending in 55 AA with one partition entry
    """
    if not isinstance(marker, bytes):
        raise TypeError('marker must be bytes')
    if len(marker) > MAX_PARALLEL_MARKER:
        raise ValueError('marker longer than %d bytes' % MAX_PARALLEL_MARKER)
    code = b'\xba' + struct.pack('<H', LPT1)          # mov dx, 0x378
    for byte in marker:
        code += bytes((
            0xb0, byte, 0xee,                              # data register
            0xb2, (LPT1 + 2) & 0xff,                       # mov dl, 0x7a
            0xb0, _LPT_SELECT_INIT | _LPT_STROBE, 0xee,    # strobe up
            0xb0, _LPT_SELECT_INIT, 0xee,                  # strobe down
            0xb2, LPT1 & 0xff))                            # mov dl, 0x78
    return _sector(code + _HALT, disk_sectors)


def write_parallel_image(path, marker, size_mb=1):
    """Write a sparse raw disk that boots to ``marker`` on LPT1.

    See :func:`make_parallel_sector`.

    :returns: ``path``
    """
    return _write_image(path, make_parallel_sector(
        marker, size_mb * MIB // SECTOR), size_mb * MIB)


# The boot sector of make_ticking_counter_sector, in nasm syntax. Paced
# by the BIOS timer tick (IRQ 0, 18.2 Hz, counted by SeaBIOS in the BIOS
# data area at 0:0x46c), so it prints about 18 lines a second whatever
# the speed of TCG, and idles in hlt between ticks. The count is kept in
# the line buffer itself, as ASCII digits incremented with carry (it
# wraps to zero after 99999999, in 63 days). The marker's bytes follow
# the code; the addresses of ``number`` and ``marker`` do not depend on
# its length.
TICKING_COUNTER_ASM = """bits 16
org 0x7c00
        cli
        cld                     ; lodsb counts upwards
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00          ; the stack grows below the code
        sti                     ; the BIOS timer interrupt counts ticks
        mov dx, 0x3f8
        mov si, marker
        call puts
        mov bx, [0x46c]
tick:
        hlt                     ; until an interrupt
        mov ax, [0x46c]
        cmp ax, bx
        je tick                 ; woken by another interrupt
        mov bx, ax
        mov si, number
        call puts
        mov si, number + 7
carry:
        inc byte [si]
        cmp byte [si], '9'
        jbe tick
        mov byte [si], '0'
        dec si
        cmp si, number
        jae carry
        jmp tick
puts:                           ; print from si up to a NUL
        lodsb
        test al, al
        jz done
        out dx, al
        jmp puts
done:
        ret
number: db '00000000', 13, 10, 0
marker:
"""
# What nasm makes of TICKING_COUNTER_ASM (checked against nasm by
# tests/functional/test_migration_bed.py), so no assembler is needed to
# build the image.
_TICKING_COUNTER_CODE = bytes.fromhex(
    'fafc31c08ed88ed0bc007cfbbaf803be537ce82a008b1e6c04f4a16c0439d8'
    '74f889c3be487ce81600be4f7cfe04803c3976e6c604304e81fe487c73ef'
    'ebdaac84c07403eeebf8c330303030303030300d0a00')
#: lines a second the ticking counter prints (the BIOS tick's rate)
TICKING_COUNTER_HZ = 1193182 / 65536


def make_ticking_counter_sector(marker, disk_sectors=2048):
    """A 512-byte MBR that prints ``marker``, then counts to COM1.

    After ``marker`` and CR LF it prints ``00000000``, ``00000001``, ...
    (8 decimal digits and CR LF a line), one line per BIOS timer tick
    (about 18 a second) without end; :data:`TICKING_COUNTER_ASM` is its
    code. A counter that restarts (a reboot) repeats numbers; lines lost
    in the log leave a gap.

    :param marker: the first line's bytes, without NUL, CR or LF
    :param disk_sectors: size of the disk the partition entry describes
    :returns: 512 bytes ending in 55 AA with one partition entry
    """
    return _sector(_code_then_line(_TICKING_COUNTER_CODE, marker),
                   disk_sectors)


def write_ticking_counter_image(path, marker, size_mb=1):
    """Write a sparse raw disk that boots to a ticking line counter.

    See :func:`make_ticking_counter_sector`.

    :returns: ``path``
    """
    return _write_image(path, make_ticking_counter_sector(
        marker, size_mb * MIB // SECTOR), size_mb * MIB)


# The boot sector of make_echo_sector, in nasm syntax: it prints its
# marker, then sends back every byte COM1 receives, as a serial console's
# guest would echo what is typed. It polls the line status register
# (0x3fd: bit 0 a byte received, bit 5 room to send) each time the BIOS
# timer tick (18.2 Hz) wakes it from hlt, taking up to the 16 bytes the
# receive FIFO holds, so an idle guest costs the host almost nothing. The
# marker's bytes follow the code.
ECHO_ASM = """bits 16
org 0x7c00
        cli
        cld                     ; lodsb counts upwards
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00          ; the stack grows below the code
        sti                     ; the BIOS timer tick wakes hlt
        mov dx, 0x3fa
        mov al, 0x07
        out dx, al              ; FCR: enable and clear the 16-byte FIFOs
        mov si, marker
puts:                           ; print from si up to a NUL
        lodsb
        test al, al
        jz idle
        call putc
        jmp puts
idle:
        hlt                     ; until an interrupt (the 18.2 Hz tick)
echo:
        mov dx, 0x3fd
        in al, dx
        test al, 1              ; LSR bit 0: a byte was received
        jz idle
        mov dx, 0x3f8
        in al, dx               ; take it from the receive buffer
        call putc               ; and send it back
        jmp echo
putc:                           ; write al to COM1 once it takes a byte
        mov ah, al
        mov dx, 0x3fd
busy:
        in al, dx
        test al, 0x20           ; LSR bit 5: transmit holding register empty
        jz busy
        mov dx, 0x3f8
        mov al, ah
        out dx, al
        ret
marker:
"""
# What nasm makes of ECHO_ASM (checked against nasm by
# tests/functional/test_serial_console.py).
_ECHO_CODE = bytes.fromhex(
    'fafc31c08ed88ed0bc007cfbbafa03b007eebe427cac84c07405e81400ebf6f4'
    'bafd03eca80174f7baf803ece80200ebef88c4bafd03eca82074fbbaf80388e0'
    'eec3')


def make_echo_sector(marker, disk_sectors=2048):
    """A 512-byte MBR that prints ``marker`` and CR LF, then echoes COM1.

    :data:`ECHO_ASM` is its code.

    :param marker: bytes without NUL, CR or LF
    :param disk_sectors: size of the disk the partition entry describes
    :returns: 512 bytes ending in 55 AA with one partition entry
    """
    return _sector(_code_then_line(_ECHO_CODE, marker), disk_sectors)


def write_echo_image(path, marker, size_mb=1):
    """Write a sparse raw disk that boots to an echo on COM1.

    See :func:`make_echo_sector`.

    :returns: ``path``
    """
    return _write_image(path, make_echo_sector(
        marker, size_mb * MIB // SECTOR), size_mb * MIB)


#: a 1.44 MB floppy: 80 tracks, 2 heads, 18 sectors of 512 bytes
FLOPPY_BYTES = 80 * 2 * 18 * SECTOR


def write_floppy_image(path, marker):
    """Write a 1.44 MB raw floppy image that boots to ``marker``.

    SeaBIOS loads a floppy's first sector and jumps to it if it ends in
    55 AA, as a disk's; a floppy needs no partition table, but the
    sector keeps its one entry so that the image inspector takes the
    image as a safe raw one.

    :returns: ``path``
    """
    return _write_image(path, make_boot_sector(
        marker, FLOPPY_BYTES // SECTOR), FLOPPY_BYTES)


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
