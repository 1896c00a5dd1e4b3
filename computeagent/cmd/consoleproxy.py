"""``computeagent-console-proxy``: the node's interactive serial consoles.

Runs beside the agent on a compute node, reading the same configuration
file (``[console]``, ``[DEFAULT] instances_path``): clients holding a
token from get_serial_console connect to it with a websocket
(:mod:`computeagent.console.proxy`). Stops on SIGTERM or SIGINT.
"""

import asyncio
import logging as std_logging
import signal
import ssl
import sys

from oslo_config import cfg
from oslo_log import log as logging

from computeagent.cli import errors
from computeagent.cmd import options
from computeagent.console import proxy as proxy_mod
from computeagent.console import tokens

LOG = logging.getLogger(__name__)
PROG = 'computeagent-console-proxy'


def _fail(message, code):
    return options.fail(PROG, message, code)


def _ssl_context(conf):
    """The TLS context of ``[console] proxy_cert_file``, or None.

    :raises: ValueError for a certificate without its key; OSError,
        ssl.SSLError for files that cannot be read or do not match
    """
    cert, key = conf.console.proxy_cert_file, conf.console.proxy_key_file
    if not cert and not key:
        return None
    if not (cert and key):
        raise ValueError('[console] proxy_cert_file and proxy_key_file go '
                         'together')
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def _serve(conf, context):
    store = tokens.TokenStore(tokens.token_dir(conf))
    store.sweep()
    server = await proxy_mod.ConsoleProxy(store).serve(
        conf.console.proxy_host, conf.console.proxy_port, ssl=context)
    LOG.info('Console proxy listening on %(host)s:%(port)d (%(scheme)s), '
             'tokens in %(dir)s',
             {'host': conf.console.proxy_host,
              'port': conf.console.proxy_port,
              'scheme': 'wss' if context else 'ws',
              'dir': store.directory})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    LOG.info('Console proxy stopping')
    # Open sessions are closed with 1001 (going away).
    server.close()
    await server.wait_closed()


def main(argv=None):
    """Run the proxy until SIGTERM or SIGINT.

    :returns: the exit status: 0 stopped, 1 failed at run time (the
        address is taken, ...), 2 a usage or configuration error
    """
    try:
        conf = options.parse(argv, PROG)
        logging.setup(conf, 'computeagent')
        # websockets' debug log shows each request line, token and all:
        # never that, even with --debug.
        std_logging.getLogger('websockets').setLevel(std_logging.INFO)
        context = _ssl_context(conf)
    except options.UsageError as error:
        return _fail(str(error), errors.USAGE)
    except (cfg.Error, ValueError, OSError, ssl.SSLError) as error:
        return _fail(str(error), errors.USAGE)
    try:
        asyncio.run(_serve(conf, context))
    except OSError as error:
        LOG.error('Cannot serve: %s', error)
        return _fail('cannot serve: %s' % error, errors.FAILURE)
    return 0


if __name__ == '__main__':
    sys.exit(main())
