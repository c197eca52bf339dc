"""The CUDA kernels' logic, tested on the CPU. Without a GPU the CUDA sources are only compiled; here their device code
(cuda_ops/cuda/msda_kernels.cuh, included as it is, with the bilinear sampling of cuda_ops/common/msda_bilinear.h that
the CPU kernel shares) is built with the host C++ compiler into a small library, with each warp emulated by 32 threads
in lockstep (tests/cuda_emu/emu.cpp), and compared with the fp64 reference like the CPU kernel. This covers indexing,
the bilinear corners and gradient formulas, the convention at kinks, and the segmented warp-shuffle reduction (head
dims that split across warps included); it says nothing about speed, coalescing or the fp16/bf16 conversions."""
import ctypes, random, shutil, subprocess
from pathlib import Path

import pytest
import torch

from wecromcl.msda import compare_with_reference, msda_inputs

ROOT = Path(__file__).resolve().parent.parent


class Sizes(ctypes.Structure):
    _fields_ = [(k, ctypes.c_int64) for k in 'N S M D Lq L P'.split()] + \
               [(k, ctypes.c_int64 * 16) for k in ('H', 'W', 'start')]


@pytest.fixture(scope='module')
def emu(tmp_path_factory):
    cxx = shutil.which('g++') or shutil.which('c++')
    if cxx is None: pytest.skip('no C++ compiler')
    so = tmp_path_factory.mktemp('cuda_emu') / 'emu.so'
    r = subprocess.run([cxx, '-O1', '-std=c++20', '-shared', '-fPIC', '-pthread', f'-I{ROOT / "cuda_ops"}',
                        str(ROOT / 'tests' / 'cuda_emu' / 'emu.cpp'), '-o', str(so)], capture_output=True, text=True)
    if r.returncode and 'barrier' in r.stderr: pytest.skip('the C++ compiler lacks C++20 <barrier>')
    assert r.returncode == 0, r.stderr
    return ctypes.CDLL(str(so))


def _sizes(value, spatial_shapes, loc):
    N, S, M, D = value.shape
    s = Sizes(N, S, M, D, loc.shape[1], loc.shape[3], loc.shape[4])
    start = 0
    for l, (h, w) in enumerate(spatial_shapes.tolist()):
        s.H[l], s.W[l], s.start[l] = h, w, start
        start += h * w
    return s


def _emulated_op(lib):
    ptr = lambda t: ctypes.c_void_p(t.data_ptr())
    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, value, spatial_shapes, level_start_index, loc, attn):
            value, loc, attn = value.contiguous(), loc.contiguous(), attn.contiguous()
            ctx.save_for_backward(value, spatial_shapes, loc, attn)
            s = _sizes(value, spatial_shapes, loc)
            out = value.new_empty(s.N, s.Lq, s.M * s.D)
            fn = lib.emu_forward_f64 if value.dtype == torch.float64 else lib.emu_forward_f32
            fn(ctypes.byref(s), ptr(value), ptr(loc), ptr(attn), ptr(out))
            return out

        @staticmethod
        def backward(ctx, grad):
            value, spatial_shapes, loc, attn = ctx.saved_tensors
            s, grad = _sizes(value, spatial_shapes, loc), grad.contiguous()
            gv, gl, ga = torch.zeros_like(value), torch.zeros_like(loc), torch.zeros_like(attn)
            fn = lib.emu_backward_f64 if value.dtype == torch.float64 else lib.emu_backward_f32
            fn(ctypes.byref(s), ptr(grad), ptr(value), ptr(loc), ptr(attn), ptr(gv), ptr(gl), ptr(ga))
            return gv, None, None, gl, ga
    return Op.apply


@pytest.mark.parametrize('kind', ['random', 'realistic', 'border'])
def test_emulated_cuda_kernels_match_reference(emu, kind):
    errs = compare_with_reference(msda_inputs(N=2, Lq=7, M=3, D=24, shapes=((8, 16), (4, 8)), P=4, kind=kind),
                                  fn=_emulated_op(emu))
    assert max(errs.values()) < 1e-5, errs


def test_emulated_cuda_kernels_fuzz(emu):
    "Random shapes, fp32 and fp64; head dims 33 and 64 split a head's lanes across warps."
    op, rng = _emulated_op(emu), random.Random(0)
    for i in range(16):
        L, border = rng.randint(1, 4), i % 2 == 1
        args = msda_inputs(N=rng.randint(1, 3), Lq=rng.randint(1, 6), M=rng.randint(1, 8),
                           D=rng.choice([1, 3, 24, 32, 33, 64]), P=rng.randint(1, 4), seed=i,
                           shapes=tuple((rng.randint(1, 9), rng.randint(1, 9)) for _ in range(L)),
                           kind='border' if border else 'random', dtype=torch.float64 if i % 3 == 0 else torch.float32)
        errs = compare_with_reference(args, fn=op)
        assert max(errs.values()) < (1e-12 if args[0].dtype == torch.float64 else 1e-5), (i, errs)


# Level sizes that are not powers of two: `border` locations (pixel centres, edges, x = -1, x = W) are then not exact
# in fp32 or fp64, and land a hair off the bilinear kinks. The kernels must pick the same one-sided derivative as the
# fp64 reference there (cuda_ops/common/msda_bilinear.h), or grad_sampling_locations is off by O(1).
KINK_SHAPES = [((5, 7), (3, 6)), ((10, 12), (5, 6), (3, 3)), ((160, 160), (80, 80))]


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('shapes', KINK_SHAPES)
def test_emulated_cuda_kernels_kink_convention(emu, dtype, shapes):
    args = msda_inputs(N=2, Lq=40, M=3, D=8, shapes=shapes, P=4, kind='border', dtype=dtype, seed=1)
    errs = compare_with_reference(args, fn=_emulated_op(emu))
    assert max(errs.values()) < (1e-12 if dtype == torch.float64 else 1e-5), errs


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_cpu_and_emulated_cuda_agree_on_kinks(emu, dtype):
    "The CPU and the CUDA kernel share one convention at kinks: on `border` inputs their gradients agree to rounding."
    from wecromcl.msda import OP_DEVICES, _fwd_bwd
    if 'cpu' not in OP_DEVICES: pytest.skip('wecromcl._C is not built')
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for shapes in KINK_SHAPES:
        args = msda_inputs(N=2, Lq=40, M=3, D=8, shapes=shapes, P=4, kind='border', dtype=dtype, seed=2)
        grad = torch.randn(2, 40, 24, generator=torch.Generator().manual_seed(0), dtype=dtype)
        for name, a, b in zip(('out', 'grad_value', 'grad_sampling_locations', 'grad_attention_weights'),
                              _fwd_bwd(torch.ops.wecromcl.ms_deform_attn, args, grad), _fwd_bwd(_emulated_op(emu), args, grad)):
            err = ((a - b).abs().max() / b.abs().max().clamp(min=1)).item()
            assert err < tol, (shapes, name, err)
