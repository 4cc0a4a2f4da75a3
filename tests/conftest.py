"""Shared pytest configuration.

Hypothesis profiles: ``ci`` (the default: deterministic, no deadline, since the
first call of a verb may compile a kernel) and ``dev`` (more examples). Pick one
with ``HYPOTHESIS_PROFILE=dev pytest``.
"""

import os

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is in the [test] extra; tests that need it import it themselves
    pass
else:
    settings.register_profile(
        "ci", max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile("dev", max_examples=1000, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
