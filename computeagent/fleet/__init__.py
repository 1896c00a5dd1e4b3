"""A fleet of compute nodes on one broker: one vhost per host.

Every agent needs write on RabbitMQ's default exchange to answer calls,
and the default exchange delivers to any queue of its vhost by name; so
within one shared vhost a node could make another execute a request,
whatever the users' permissions (docs/operations.md, "A fleet"). Here
each compute host gets a vhost of its own that only it and the
controllers may open: a node's credentials reach nothing of another.

- :mod:`computeagent.fleet.vhosts`: the names and the permissions, the
  one statement of the rule;
- :mod:`computeagent.fleet.rabbitmqctl`: the broker's command line;
- :mod:`computeagent.fleet.provision`: adding and removing a host or a
  controller, idempotently;
- :mod:`computeagent.fleet.agentconf`: what the agent checks and sets in
  its own messaging options when it serves a vhost of its own.

The controllers' side, one transport per host, is
:mod:`computeagent.api.fleet`.
"""
