"""How setup.py builds wecromcl._C: the C++ op always, the CUDA op when it can, and failures reported honestly.

Each test builds a copy of the project in a temporary folder, so the checkout's own build is never touched.
"""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
HAS_NVCC = shutil.which('nvcc') is not None or Path('/usr/local/cuda/bin/nvcc').exists()


def project_copy(tmp_path):
    dst = tmp_path / 'proj'
    dst.mkdir()
    for name in ('setup.py', 'settings.ini', 'README.md', 'pyproject.toml'): shutil.copy(ROOT / name, dst / name)
    shutil.copytree(ROOT / 'cuda_ops', dst / 'cuda_ops')
    shutil.copytree(ROOT / 'wecromcl', dst / 'wecromcl', ignore=shutil.ignore_patterns('_C*.so', '__pycache__'))
    return dst


def build(proj, **env):
    "Run `setup.py build_ext --inplace` in `proj`; the CompletedProcess with stdout and stderr merged."
    return subprocess.run([sys.executable, 'setup.py', 'build_ext', '--inplace'], cwd=proj, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, 'MAX_JOBS': '2', **env})


def build_info(proj):
    "`wecromcl._C.build_info()` of the extension built in `proj`."
    code = 'import torch; from wecromcl import _C; print(_C.build_info())'
    r = subprocess.run([sys.executable, '-c', code], cwd=proj, capture_output=True, text=True,
                       env={**os.environ, 'PYTHONPATH': str(proj)})
    assert r.returncode == 0, r.stderr
    return eval(r.stdout)


def break_source(path, message):
    with open(path, 'a') as f: f.write(f'\n#error {message}\n')


def test_without_nvcc_builds_the_cpu_op(tmp_path):
    proj = project_copy(tmp_path)
    r = build(proj, CUDA_HOME=str(tmp_path / 'no-cuda-here'))
    assert r.returncode == 0, r.stdout[-3000:]
    assert '[wecromcl setup] no nvcc found' in r.stdout
    info = build_info(proj)
    assert info['cpu'] and not info['cuda']


@pytest.mark.skipif(not HAS_NVCC, reason='needs nvcc')
def test_broken_cuda_part_falls_back_to_cpu_op(tmp_path):
    proj = project_copy(tmp_path)
    break_source(proj / 'cuda_ops' / 'cuda' / 'runtime.cu', 'deliberately broken CUDA source')
    r = build(proj)
    assert r.returncode == 0, r.stdout[-3000:]
    assert 'the CUDA part failed to compile' in r.stdout and 'retrying with the C++ op only' in r.stdout
    info = build_info(proj)
    assert info['cpu'] and not info['cuda']


@pytest.mark.skipif(not HAS_NVCC, reason='needs nvcc')
def test_force_cuda_makes_a_cuda_failure_fatal(tmp_path):
    proj = project_copy(tmp_path)
    break_source(proj / 'cuda_ops' / 'cuda' / 'runtime.cu', 'deliberately broken CUDA source')
    r = build(proj, FORCE_CUDA='1')
    assert r.returncode != 0 and 'deliberately broken CUDA source' in r.stdout


def test_broken_cpp_part_fails_the_build_visibly(tmp_path):
    "The fallback must not hide a C++ error: the build fails and the compiler's message is shown."
    proj = project_copy(tmp_path)
    break_source(proj / 'cuda_ops' / 'ext.cpp', 'deliberately broken C++ source')
    r = build(proj)
    assert r.returncode != 0
    assert 'deliberately broken C++ source' in r.stdout
