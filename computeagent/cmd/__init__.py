"""Console scripts; the only places that exit the process."""

import os
import warnings

# oslo.messaging imports eventlet, which imports its green DNS resolver
# (dnspython) unless told not to: half of a command's start-up time, for
# a resolver nothing uses, since nothing is monkey-patched. This package
# is imported before any console script imports oslo.messaging.
os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')

# oslo.messaging imports oslo.service, whose default backend imports
# eventlet (never monkey-patched here: the threading executor is used).
# Its deprecation banner on every command would only confuse operators.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', module='oslo_utils.eventletutils')
