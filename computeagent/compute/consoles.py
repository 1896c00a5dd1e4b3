"""get_serial_console: a one-time token for a guest's serial port.

Which ports may be joined is decided here, from the instance's record:
the port must exist and be interactive (``pty``, ``unix`` or ``tcp``),
and the guest must run or be paused (its QEMU holds the chardev). The
driver says where the port's host end is; the token store
(:mod:`computeagent.console.tokens`) keeps what the token grants for
the console proxy.
"""

import datetime

from oslo_log import log as logging

from computeagent.console import tokens as tokens_mod
from computeagent import exception
from computeagent.objects import console
from computeagent.schema import disks as fields
from computeagent.schema import ports

LOG = logging.getLogger(__name__)


def _iso_utc(seconds):
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


class SerialConsoles(object):
    """Issues console tokens for the instances of one host.

    :param conf: the ConfigOpts (``[console]``)
    :param driver: the virt driver, which resolves a port's host end
    :param runner: the OperationRunner (lock, state check)
    :param store: the TokenStore; default the one of ``[console]``
    """

    def __init__(self, conf, driver, runner, store=None):
        self.conf = conf
        self.driver = driver
        self.runner = runner
        self.tokens = store or tokens_mod.TokenStore(
            tokens_mod.token_dir(conf))

    def get(self, ctxt, uuid, port):
        """A token and URL for serial port ``port`` of the instance.

        :returns: ``{"url", "token", "expires_at", "port", "type"}``
        :raises: InvalidSpec (a bad port, one the instance lacks, one
            that is not interactive), InstanceNotFound, InvalidState,
            DriverError
        """
        port = fields.integer(port, 'port', 0, ports.MAX_SERIAL_PORTS - 1)
        answer = {}

        def issue(stored):
            record = self._interactive_port(stored.record, port)
            target = self.driver.get_serial_console(stored, port)
            try:
                token, grant = self.tokens.issue(
                    stored.uuid, port, target, self.conf.console.token_ttl)
            except OSError as e:
                raise exception.DriverError(
                    reason='cannot write a console token in %s: %s'
                    % (self.tokens.directory, e))
            answer.update(url=self._url(token), token=token,
                          expires_at=_iso_utc(grant.expires_at), port=port,
                          type=record.type)

        self.runner.run(ctxt, uuid, 'get_serial_console',
                        'get_serial_console', issue, notify=False)
        LOG.info('Issued a console token for port %(port)d of %(uuid)s, '
                 'valid until %(until)s',
                 {'port': port, 'uuid': uuid, 'until': answer['expires_at']})
        return answer

    @staticmethod
    def _interactive_port(record, port):
        """The record's serial port ``port``, if a console can join it.

        :raises: InvalidSpec naming ``port``
        """
        by_index = {p.index: p for p in record.serial_ports}
        if port not in by_index:
            raise exception.InvalidSpec(
                field='port', reason='instance %s has no serial port %d '
                '(it has %d)' % (record.uuid, port, len(by_index)))
        kind = by_index[port].type
        if kind not in console.INTERACTIVE_TYPES:
            raise exception.InvalidSpec(
                field='port', reason='serial port %d is of type %s, which '
                'a console cannot join (only %s ports can)'
                % (port, kind, ', '.join(console.INTERACTIVE_TYPES)))
        return by_index[port]

    def _url(self, token):
        base = self.conf.console.proxy_base_url
        separator = '&' if '?' in base else '?'
        return '%s%stoken=%s' % (base, separator, token)
