"""Readable tables and JSON for the controller command line.

Tables fit :data:`MAX_WIDTH` columns: a value too wide for its column is
wrapped onto more lines of the same row, never cut, and an instance's
disks and serial ports are summarised one line each (``vda virtio qcow2
boot=1``).
``--format json`` prints every field as the agent returned it.
"""

import json
import os
import textwrap

#: the widest a table may be, in characters
MAX_WIDTH = 100
#: no column is narrowed below this (or its heading)
MIN_COLUMN = 8

INSTANCE_COLUMNS = ('uuid', 'name', 'state', 'vcpus', 'memory_mb', 'host')


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _wrap(text, width):
    """The lines of ``text`` (which may hold newlines) ``width`` wide."""
    lines = []
    for line in text.split('\n'):
        # Paths and JSON have few spaces: long words are cut, so that
        # nothing is lost, only moved to the next line.
        lines.extend(textwrap.wrap(line, width, break_long_words=True,
                                   break_on_hyphens=False) or [''])
    return lines


def _fit(widths, minimums, fixed, max_width):
    """Narrow the widest columns until the table is ``max_width`` wide."""
    widths = list(widths)

    def total():
        return sum(widths) + 3 * len(widths) + 1
    while total() > max_width:
        narrowable = [i for i in range(len(widths))
                      if i not in fixed and widths[i] > minimums[i]]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def table(rows, columns, max_width=MAX_WIDTH, fixed=()):
    """A plain-text table of dicts, one row per dict.

    :param rows: dicts; a missing key or None shows as ``-``
    :param columns: the keys to show, in order, also the headings
    :param max_width: the widest the table may be (see the module)
    :param fixed: columns never wrapped (a uuid stays one piece to copy)
    :returns: the table's text, without a final newline
    """
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(line) for r in cells
                              for line in r[i].split('\n')])
              for i, c in enumerate(columns)]
    minimums = [max(len(c), MIN_COLUMN) for c in columns]
    widths = _fit(widths, minimums,
                  {i for i, c in enumerate(columns) if c in fixed},
                  max_width)
    rule = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def lines(values):
        wrapped = [_wrap(v, w) for v, w in zip(values, widths)]
        height = max(len(w) for w in wrapped)
        return ['| ' + ' | '.join(
            (w[n] if n < len(w) else '').ljust(width)
            for w, width in zip(wrapped, widths)) + ' |'
            for n in range(height)]
    out = [rule] + lines(columns) + [rule]
    for row in cells:
        out += lines(row)
    out.append(rule)
    return '\n'.join(out)


def properties(mapping, skip=(), max_width=MAX_WIDTH):
    """A two-column table of a dict's keys and values."""
    rows = [{'property': k, 'value': v} for k, v in mapping.items()
            if k not in skip]
    return table(rows, ('property', 'value'), max_width=max_width,
                 fixed=('property',))


def disk_summary(disk):
    """One line for a disk of an instance record.

    e.g. ``vda virtio qcow2 boot=1 cache=none aio=native`` or
    ``sda cdrom sata raw``; the path is in ``--format json``.
    """
    parts = [disk.get('target') or '?']
    if disk.get('device') not in (None, 'disk'):
        parts.append(disk['device'])
    parts += [disk[k] for k in ('bus', 'format') if disk.get(k)]
    if disk.get('boot_index') is not None:
        parts.append('boot=%s' % disk['boot_index'])
    parts += ['%s=%s' % (k, disk[k]) for k in ('cache', 'aio')
              if disk.get(k)]
    if disk.get('snapshot'):
        parts.append('snapshot')
    return ' '.join(str(p) for p in parts)


def serial_summary(port):
    """One line for a serial or parallel port of an instance record.

    e.g. ``0 file console.log``, ``1 tcp 127.0.0.1:4555``, ``2 pty
    /dev/pts/3`` or ``3 pipe /.../serial3``: where to find its output
    or connect to it (a udp port's remote end; a pipe port's FIFOs are
    the path with ``.in`` and ``.out``).
    """
    parts = [port.get('index', '?'), port.get('type') or '?']
    if port.get('port'):
        parts.append('%s:%s' % (port.get('host') or '127.0.0.1',
                                port['port']))
    elif port.get('type') == 'file' and port.get('path'):
        # The whole path is the record's console_log (port 0).
        parts.append(os.path.basename(port['path']))
    elif port.get('path'):
        parts.append(port['path'])
    return ' '.join(str(p) for p in parts)


def instance(record):
    """An instance record as one table, disks and ports summarised.

    One line each (see disk_summary and serial_summary, which summarises
    parallel ports too).
    """
    shown = dict(record)
    for key, summary in (('disks', disk_summary),
                         ('serial_ports', serial_summary),
                         ('parallel_ports', serial_summary)):
        if isinstance(shown.get(key), list):
            shown[key] = '\n'.join(summary(item) if isinstance(item, dict)
                                   else _cell(item)
                                   for item in shown[key]) or None
    return properties(shown)


def render(result, kind, fmt):
    """Text for a command's result.

    :param kind: 'instance', 'instances', 'console' or 'mapping'
    :param fmt: 'table' or 'json'
    :returns: the text to print
    """
    if fmt == 'json':
        return json.dumps(result, indent=2, sort_keys=True)
    if kind == 'instance':
        return instance(result)
    if kind == 'instances':
        return table(result, INSTANCE_COLUMNS, fixed=('uuid',))
    if kind == 'console':
        return result['output'].rstrip('\n')
    return properties(result)
