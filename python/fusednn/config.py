"""Runtime configuration: threads, the CPU instruction set in use, and a summary of the build."""
import contextlib
import platform

import numpy as np

from . import _C

get_num_threads = _C.get_num_threads
set_num_threads = _C.set_num_threads


def isa():
    """The CPU kernel path in use: 'avx512', 'avx2' or 'ref' (forced with FUSEDNN_ISA)."""
    return _C._active_isa()


def supported_isas():
    """Every kernel path this CPU can run, newest first."""
    order = ["avx512", "avx2", "ref"]
    return order[order.index(_C._detected_isa()):]


@contextlib.contextmanager
def use_isa(name):
    """Run the block on another kernel path (for tests and comparisons); restores the previous one."""
    previous = _C._active_isa()
    _C._set_isa(name)
    try:
        yield
    finally:
        _C._set_isa(previous)


def show_config():
    """Print the version, the ISA in use, the threads, and whether CUDA was built and is available."""
    cuda = _C._cuda
    stats = _C._allocator_stats()
    lines = [
        f"fusednn {_C.__version__}",
        f"  python          {platform.python_version()} ({platform.machine()})",
        f"  numpy           {np.__version__}",
        f"  cpu isa         {isa()} (detected: {_C._detected_isa()}; force with FUSEDNN_ISA=avx512|avx2|ref)",
        f"  threads         {get_num_threads()}",
        f"  cuda built      {cuda.is_built()}" + (f" (runtime {cuda.runtime_version()})" if cuda.is_built() else ""),
        f"  cuda available  {cuda.device_count() > 0} ({cuda.device_count()} devices)",
        f"  cpu allocator   {stats['allocated_bytes'] / 2**20:.1f} MiB in use, "
        f"{stats['cached_bytes'] / 2**20:.1f} MiB cached",
    ]
    print("\n".join(lines))
