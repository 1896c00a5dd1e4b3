"""Readable tables and JSON for the controller command line."""

import json

INSTANCE_COLUMNS = ('uuid', 'name', 'state', 'vcpus', 'memory_mb', 'host')
DISK_COLUMNS = ('target', 'device', 'bus', 'format', 'boot_index', 'cache',
                'aio', 'snapshot', 'path')


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def table(rows, columns):
    """A plain-text table of dicts, one row per dict."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells])
              for i, c in enumerate(columns)]
    rule = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def line(values):
        return '| ' + ' | '.join(v.ljust(w) for v, w in
                                 zip(values, widths)) + ' |'
    out = [rule, line(columns), rule]
    out += [line(r) for r in cells]
    out.append(rule)
    return '\n'.join(out)


def properties(mapping, skip=()):
    """A two-column table of a dict's keys and values."""
    rows = [{'property': k, 'value': v} for k, v in mapping.items()
            if k not in skip]
    return table(rows, ('property', 'value'))


def instance(record):
    text = properties(record, skip=('disks',))
    if record.get('disks'):
        text += '\n' + table(record['disks'], DISK_COLUMNS)
    return text


def render(result, kind, fmt):
    """Text for a command's result.

    :param kind: 'instance', 'instances', 'console' or 'mapping'
    :param fmt: 'table' or 'json'
    """
    if fmt == 'json':
        return json.dumps(result, indent=2, sort_keys=True)
    if kind == 'instance':
        return instance(result)
    if kind == 'instances':
        return table(result, INSTANCE_COLUMNS)
    if kind == 'console':
        return result['output'].rstrip('\n')
    return properties(result)
