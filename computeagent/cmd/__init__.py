"""Console scripts; the only places that exit the process."""

import warnings

# oslo.messaging imports oslo.service, whose default backend imports
# eventlet (never monkey-patched here: the threading executor is used).
# Its deprecation banner on every command would only confuse operators.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', module='oslo_utils.eventletutils')
