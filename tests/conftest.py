"""Shared pytest fixtures: every ISA path, thread counts, and the hypothesis profile for CI."""
import os

import pytest
from hypothesis import HealthCheck, settings

import fusednn as fnn
from fusednn.config import supported_isas, use_isa

settings.register_profile(
    "ci", max_examples=int(os.environ.get("FUSEDNN_HYPOTHESIS_EXAMPLES", "30")), deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])
settings.load_profile("ci")

ALL_ISAS = ["avx512", "avx2", "ref"]


@pytest.fixture(params=ALL_ISAS)
def isa(request):
    """Runs the test once per CPU kernel path this machine supports (others are skipped)."""
    if request.param not in supported_isas():
        pytest.skip(f"this CPU cannot run the {request.param} path")
    with use_isa(request.param):
        yield request.param


@pytest.fixture
def threads():
    """Restores the thread count after a test that changes it."""
    before = fnn.get_num_threads()
    yield
    fnn.set_num_threads(before)


# Devices a kernel test runs on: the CPU always, CUDA where a device is present (skipped with the reason
# otherwise). Use as @pytest.mark.parametrize("device", DEVICES); compare against the CPU result.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not fnn.cuda.is_available(),
                                                                 reason="no CUDA device on this machine"))]
