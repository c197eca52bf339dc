"""The build of wecromcl._C: setup.py falls back to the C++ op when the CUDA part fails to compile, so that a user
without a working toolkit still gets the CPU kernels. That fallback would hide a CUDA compile error in CI; this test
makes it visible: where the build had what it needs to compile the CUDA kernels, they must be in the extension."""
import os, shutil

import pytest
import torch


def _ext():
    from wecromcl.install import load_extension
    return load_extension()


def _cuda_build_expected():
    if os.environ.get('WECROMCL_NO_CUDA', '0') not in ('', '0'): return False
    has_nvcc = os.path.exists('/usr/local/cuda/bin/nvcc') or shutil.which('nvcc') or os.environ.get('CUDA_HOME')
    return bool(has_nvcc) and torch.version.cuda is not None


@pytest.mark.skipif(_ext() is None, reason='wecromcl._C is not built')
def test_extension_registers_the_op():
    "A built extension defines wecromcl::ms_deform_attn and its backward (a stale build from before the op would not)."
    assert hasattr(torch.ops.wecromcl, 'ms_deform_attn') and hasattr(torch.ops.wecromcl, 'ms_deform_attn_backward')
    from wecromcl.msda import OP_DEVICES
    assert 'cpu' in OP_DEVICES


@pytest.mark.skipif(_ext() is None or not _cuda_build_expected(), reason='no CUDA build expected here')
def test_cuda_kernels_compiled():
    info = _ext().build_info()
    assert info['cuda'], ('nvcc and a CUDA build of torch are present, but wecromcl._C has no CUDA kernels: the CUDA '
                          'part failed to compile (see the build log) and setup.py fell back to the C++ op')
