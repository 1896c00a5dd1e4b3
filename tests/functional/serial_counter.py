"""Reading the line counter of a guest from its serial log.

The guest of :func:`tests.images.make_ticking_counter_sector` prints a
marker line, then ``00000000``, ``00000001``, ... one line each BIOS
tick, every line ending in CR LF. Its log shows that the guest ran on
without a break when the numbers after the marker are exactly 0, 1, 2,
... : a guest that was restarted prints the marker and 0 again, one
whose state was lost or rolled back repeats numbers, lines the log lost
leave a gap.
"""

import re

_NUMBER = re.compile(r'[0-9]{8}')


class CounterError(AssertionError):
    """The counter's lines are not what a guest running on would print."""


def parse(text, marker):
    """The numbers of the counter lines after the first ``marker`` line.

    Whatever precedes the marker line (firmware output) is skipped; an
    unfinished last line (the guest is still printing it) is dropped.

    :param text: the serial log, bytes or str
    :param marker: the marker line's text, bytes or str
    :returns: list of ints, in the log's order
    :raises: CounterError if there is no marker line, or a line after it
        is not a counter line (the marker again: the guest restarted)
    """
    if isinstance(text, bytes):
        text = text.decode('ascii', 'replace')
    if isinstance(marker, bytes):
        marker = marker.decode('ascii')
    lines = text.split('\r\n')
    try:
        first = lines.index(marker)
    except ValueError:
        raise CounterError('no marker line %r in the log; it begins %r'
                           % (marker, text[:100]))
    numbers = []
    # lines[-1] is what follows the last CR LF: unfinished (or empty).
    for index, line in enumerate(lines[first + 1:-1], first + 1):
        if not _NUMBER.fullmatch(line):
            raise CounterError('line %d after the marker is %r, not a '
                               'counter line' % (index - first, line))
        numbers.append(int(line))
    return numbers


def breaks(numbers):
    """Where the counter did not go up by one.

    :returns: list of (index, previous number, number at index)
    """
    return [(i, numbers[i - 1], numbers[i]) for i in range(1, len(numbers))
            if numbers[i] != numbers[i - 1] + 1]


def check(numbers, start=0):
    """Raise CounterError unless ``numbers`` are start, start+1, ...

    :param start: the first number expected; None for any
    :returns: ``numbers``
    """
    if not numbers:
        raise CounterError('no counter line')
    if start is not None and numbers[0] != start:
        raise CounterError('the counter starts at %d, not %d'
                           % (numbers[0], start))
    found = breaks(numbers)
    if found:
        raise CounterError('the counter has %d break(s) in %d lines, the '
                           'first (index, before, after): %s'
                           % (len(found), len(numbers), found[:5]))
    return numbers


def read(path, marker, start=0):
    """The checked counter of the serial log at ``path``.

    :returns: list of ints start, start+1, ...
    :raises: CounterError (see :func:`parse` and :func:`check`)
    """
    with open(path, 'rb') as f:
        return check(parse(f.read(), marker), start)
