"""backends/numba/memory.py: glibc keeps freed large buffers for the next call."""

import platform
import sys

import pytest

from backends.numba.memory import tune_malloc
from symgraph.config import Config


def test_malloc_tuning_is_on_by_default_and_idempotent():
    assert Config().tune_malloc is True
    first = tune_malloc()
    assert tune_malloc() is first


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_glibc_thresholds_are_set():
    assert tune_malloc() is True
