"""Every malformed spec of the corpus is refused by a real agent."""

from tests.functional import base
from tests.functional import fixtures as ft_fixtures


class TestInvalidSpecs(base.FunctionalTestCase):

    def test_corpus_is_refused_naming_the_field(self):
        agent = self.use_shared_agent('fake', empty=True)
        corpus = ft_fixtures.load_corpus('invalid_specs.json')
        self.assertGreaterEqual(len(corpus), 40)
        for case in corpus:
            error = self.assertRemoteError(
                'InvalidSpec', agent.call, 'create_instance',
                spec=case['spec'])
            self.assertIn(case['field'], error.value, case['name'])
            self.assertRemoteError('InvalidSpec', agent.call,
                                   'render_instance', spec=case['spec'])
        # Nothing was made, and the agent still serves.
        self.assertEqual([], agent.call('list_instances'))
        self.assertEqual(0, agent.call('get_host_status')['instances'])
        valid = ft_fixtures.load_corpus('valid_specs.json')
        for case in valid:
            spec = dict(case['spec'], uuid=self.new_uuid())
            record = agent.call('create_instance', spec=spec)
            self.assertEqual('running', record['state'], case['name'])
        self.assertEqual(len(valid), len(agent.call('list_instances')))
