"""The option groups and the sample configuration."""

import io

from oslo_config import cfg
from oslo_config import generator

from computeagent import conf
from computeagent.conf import opts
from tests import base


class TestOptions(base.TestCase):

    def test_every_registered_option_is_listed_for_the_generator(self):
        listed = {(str(group), opt.dest)
                  for group, group_opts in opts.list_opts()
                  for opt in group_opts}
        for module in conf.MODULES:
            for group, group_opts in module.list_opts().items():
                for opt in group_opts:
                    self.assertIn((str(group), opt.dest), listed)
        self.assertIn(('DEFAULT', 'max_concurrent_builds'), listed)
        self.assertIn(('libvirt', 'virt_type'), listed)

    def test_registering_is_explicit_and_repeatable(self):
        fresh = cfg.ConfigOpts()
        conf.register_opts(fresh)
        conf.register_opts(fresh)
        fresh([])
        self.assertEqual('/var/lib/computeagent/instances',
                         fresh.instances_path)
        self.assertEqual(16, fresh.disk.max_disks)

    def test_every_option_has_help(self):
        for group, group_opts in opts.list_opts():
            for opt in group_opts:
                self.assertGreater(len(opt.help or ''), 20,
                                   '%s.%s' % (group, opt.dest))

    def test_sample_lists_every_option(self):
        gen_conf = cfg.ConfigOpts()
        generator.register_cli_opts(gen_conf)
        gen_conf(['--namespace', 'computeagent',
                  '--namespace', 'oslo.messaging'])
        out = io.StringIO()
        generator.generate(gen_conf, output_file=out)
        sample = out.getvalue()
        for group, group_opts in opts.list_opts():
            self.assertIn('[%s]' % group, sample)
            for opt in group_opts:
                self.assertIn('\n#%s =' % opt.dest, sample)
        # transport_url is oslo.messaging's own option, listed by its
        # namespace.
        self.assertIn('#transport_url = ', sample)
