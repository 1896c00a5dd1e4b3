"""The fleet scenario's load: a controller's calls, from a process.

Run as ``python -m tools.bench.fleet_load`` by
:class:`tools.bench.fleet.Load`. It speaks JSON lines, one answer to
each line read on standard input:

- first ``{"url_template", "hosts", "threads", "first"}``:
  it reaches every host through the controller's own client
  (:class:`computeagent.api.fleet.Fleet`, a transport per host's vhost),
  calls each host once (a status, a create and a delete: its transports,
  connections and reply queues then exist), and answers ``"ready"``;
- then ``{"op", "hosts", "start", "end"}``: from ``start`` until ``end``
  (``time.monotonic()``, one clock for every process of the machine) each
  of its ``threads`` calls one host after another, the next call once the
  last is answered, thread ``i`` beginning at host ``first + i``; it
  answers ``{"latencies", "last", "errors"}``: the seconds of every call
  (an op ``create`` is a create_instance and its delete_instance), when
  the last ended, and what failed. A thread stops at its first failure.

At the end of its input it exits. Its messaging options are
oslo.messaging's defaults, as a controller's, but for the durable queues
that ``amq.topic`` needs.
"""

import json
import os
import sys
import threading
import time

from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

from computeagent.api import fleet as fleet_mod
from tools.bench import guests

#: Seconds a call may wait for its answer.
CALL_TIMEOUT_S = 60


def status(api):
    api.get_host_status(None)


def create(api):
    spec = guests.spec()
    api.create_instance(None, spec)
    api.delete_instance(None, spec['uuid'])


OPS = {'status': status, 'create': create}


def _conf():
    """The controller's options: durable, as amq.topic is."""
    # cfg.CONF: a private ConfigOpts lacks options oslo.messaging reads
    # (oslo_messaging_tracing), as in bare_server.
    conf = cfg.CONF
    conf([], project='computeagent-bench', default_config_files=[])
    # Registered before any transport reads them (the sample generator's
    # hook gives the very options oslo.messaging registers later).
    for group, options in messaging_opts.list_opts():
        conf.register_opts(options, group=group)
    conf.set_override('amqp_durable_queues', True,
                      group='oslo_messaging_rabbit')
    return conf


def _thread(apis, op, hosts, position, start, end, latencies, errors):
    delay = start - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    while True:
        began = time.monotonic()
        if began >= end:
            return
        host = hosts[position % len(hosts)]
        position += 1
        try:
            op(apis[host])
        except Exception as error:
            errors.append('%s: %r' % (host, error))
            return
        latencies.append(time.monotonic() - began)


def window(apis, op, hosts, start, end, threads, first):
    """One measurement window: the answer to an op line.

    :param apis: ``{host: ComputeAgentAPI}``
    :param op: a name of :data:`OPS`
    :param hosts: the hosts to call, in turn
    :param start: when to begin, ``time.monotonic()``
    :param end: when to send no further call
    :param threads: calls in flight
    :param first: the position of this process's first thread
    :returns: the answer, a dict
    """
    latencies = [[] for _ in range(threads)]
    errors = []
    workers = [
        threading.Thread(target=_thread,
                         args=(apis, OPS[op], hosts, first + index, start,
                               end, latencies[index], errors))
        for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {'latencies': [x for one in latencies for x in one],
            'last': time.monotonic(), 'errors': errors}


def _answer(value):
    sys.stdout.write(json.dumps(value) + '\n')
    sys.stdout.flush()


def main():
    setup = json.loads(sys.stdin.readline())
    fleet = fleet_mod.Fleet(_conf(), setup['url_template'])
    apis = {host: fleet.api(host, timeout=CALL_TIMEOUT_S)
            for host in setup['hosts']}
    for api in apis.values():
        status(api)
        create(api)
    _answer('ready')
    for line in sys.stdin:
        order = json.loads(line)
        _answer(window(apis, order['op'], order['hosts'], order['start'],
                       order['end'], setup['threads'], setup['first']))
    # Not Fleet.cleanup: it closes the transports one after another, each
    # once its reply consumer's poll ends (up to 10 s with the default
    # heartbeat), minutes for a fleet of them. The process's end closes
    # its connections; the broker then drops their reply queues.
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
