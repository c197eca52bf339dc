"""Packaging for wecromcl.

Metadata and requirements come from `settings.ini` (nbdev 2). The compiled extension `wecromcl._C` is built from
`cuda_ops/`: the C++ sources always, the CUDA sources as well when nvcc and a CUDA build of torch are present.
Environment switches: `WECROMCL_NO_CUDA=1` skips the CUDA part; `FORCE_CUDA=1` makes it mandatory (no fallback).
Install with `pip install --no-build-isolation -e .` after torch (the Makefile does both).

The kit's assets have one home, the repository's `data/` folder; a wheel (`pip install .`, `pip wheel .`) carries a
copy of it as the package data `wecromcl/assets/`, which `wecromcl.core.assets_dir()` finds. An editable install
reads `data/` in the checkout directly.
"""
import glob, os, shlex, shutil, sys
from configparser import ConfigParser
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
lib = cfg['lib_name']


def log(msg): print(f'[wecromcl setup] {msg}', file=sys.stderr, flush=True)


def _flag(name): return os.environ.get(name, '0') not in ('', '0')


def _find_cuda_home():
    "The toolkit holding nvcc: `CUDA_HOME` if set, else /usr/local/cuda, else nvcc's folder on PATH (None if none)."
    # torch guesses from `which nvcc` alone, which is wrong when nvcc on PATH is a wrapper script
    nvcc = shutil.which('nvcc')
    candidates = ([os.environ['CUDA_HOME']] if os.environ.get('CUDA_HOME') else
                  ['/usr/local/cuda'] + ([os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))] if nvcc else []))
    return next((c for c in candidates if os.path.exists(os.path.join(c, 'bin', 'nvcc'))), None)


def _cuda_plan(torch):
    "Whether to compile the CUDA sources, and why (one line for the build log)."
    if _flag('WECROMCL_NO_CUDA'): return False, 'WECROMCL_NO_CUDA=1: building the C++ (CPU) op only'
    cuda_home = _find_cuda_home()
    if cuda_home is None: return False, 'no nvcc found (CUDA_HOME, /usr/local/cuda, PATH): building the C++ (CPU) op only'
    if torch.version.cuda is None: return False, f'torch {torch.__version__} is a CPU build: building the C++ (CPU) op only'
    os.environ['CUDA_HOME'] = cuda_home
    if not os.environ.get('TORCH_CUDA_ARCH_LIST') and not torch.cuda.is_available():
        os.environ['TORCH_CUDA_ARCH_LIST'] = '8.0;9.0'  # no GPU to ask: Ampere and Hopper
    return True, f"compiling the CUDA kernels with {cuda_home} for arch {os.environ.get('TORCH_CUDA_ARCH_LIST', 'of the visible GPU')}"


def extension_kwargs():
    "`ext_modules` and `cmdclass` for `wecromcl._C`, or nothing when torch is not importable."
    try: import torch
    except ImportError:
        log('torch is not importable: no wecromcl._C (the pure-PyTorch op is used); install torch first to build it')
        return {}
    use_cuda, why = _cuda_plan(torch)
    if _flag('FORCE_CUDA') and not use_cuda: sys.exit(f'[wecromcl setup] FORCE_CUDA=1 but {why}')
    log(why)
    from torch.utils import cpp_extension as ce  # imported after CUDA_HOME is set: it reads it at import time

    cpp = sorted(glob.glob('cuda_ops/*.cpp') + glob.glob('cuda_ops/cpu/*.cpp'))
    cu = sorted(glob.glob('cuda_ops/cuda/*.cu'))
    # the headers (common/msda_bilinear.h is shared by the CPU and CUDA kernels): a change to one rebuilds the op
    headers = sorted(glob.glob('cuda_ops/*.h') + glob.glob('cuda_ops/*/*.h') + glob.glob('cuda_ops/*/*.cuh'))
    # at::parallel_for is header-inlined OpenMP: without -fopenmp the CPU kernel would run on one thread
    cxx = ['-O3', '-fopenmp']
    cpu_ext = ce.CppExtension(f'{lib}._C', cpp, include_dirs=[os.path.abspath('cuda_ops')], depends=headers,
                              extra_compile_args={'cxx': cxx}, extra_link_args=['-fopenmp'])
    ext = cpu_ext
    if use_cuda:
        ext = ce.CUDAExtension(f'{lib}._C', cpp + cu, include_dirs=[os.path.abspath('cuda_ops')], depends=headers,
                               extra_link_args=['-fopenmp'],
                               extra_compile_args={'cxx': cxx + ['-DWITH_CUDA'], 'nvcc': ['-O3', '-DWITH_CUDA']})

    class BuildExt(ce.BuildExtension):
        "Fall back to the C++ op when the optional CUDA part fails; a C++ failure still fails the build."
        def build_extension(self, e):
            if e is cpu_ext or _flag('FORCE_CUDA'): return super().build_extension(e)
            try: return super().build_extension(e)
            except Exception as err:
                log(f'the CUDA part failed to compile ({type(err).__name__}: {err}); retrying with the C++ op only')
                # strip the CUDA parts from `e` itself: setuptools and torch have attached build state and flags to it
                e.sources = cpu_ext.sources
                e.libraries, e.library_dirs = cpu_ext.libraries, cpu_ext.library_dirs
                e.extra_compile_args = {'cxx': [a for a in e.extra_compile_args['cxx'] if a != '-DWITH_CUDA']}
                return super().build_extension(e)

    return dict(ext_modules=[ext], cmdclass={'build_ext': BuildExt})


ASSETS_SRC, ASSETS_PKG = 'data', 'assets'  # data/ in the repository -> wecromcl/assets/ in a wheel


def asset_files() -> list[str]:
    "Every file under data/ (relative to it), less hidden files (atomic writes' temporaries) and caches."
    out = []
    for d, dirs, files in os.walk(ASSETS_SRC):
        dirs[:] = sorted(x for x in dirs if not x.startswith('.') and x != '__pycache__')
        out += [os.path.relpath(os.path.join(d, f), ASSETS_SRC) for f in sorted(files) if not f.startswith('.')]
    return out


class BuildPy(build_py):
    "Copy data/ into the built package as wecromcl/assets/ (not in editable mode, which reads data/ in place)."
    def _with_assets(self, data_files):
        if self.editable_mode: return data_files
        return data_files + [(lib, ASSETS_SRC, os.path.join(self.build_lib, lib, ASSETS_PKG), asset_files())]

    def _get_data_files(self): return self._with_assets(super()._get_data_files())

    def get_data_files_without_manifest(self): return self._with_assets(super().get_data_files_without_manifest())


ext_kwargs = extension_kwargs()
setup(
    name=lib, version=cfg['version'], description=cfg['description'], keywords=cfg['keywords'].split(),
    author=cfg['author'], author_email=cfg['author_email'], license=cfg['license'], url=cfg['git_url'],
    long_description=open('README.md', encoding='utf-8').read(), long_description_content_type='text/markdown',
    python_requires='>=' + cfg['min_python'],
    packages=find_packages(include=[lib, lib + '.*']),
    install_requires=shlex.split(cfg['requirements']),
    extras_require={'dev': shlex.split(cfg['dev_requirements'])},
    entry_points={'console_scripts': cfg['console_scripts'].split(), 'nbdev': [f'{lib}={lib}._modidx:d']},
    zip_safe=False,
    ext_modules=ext_kwargs.get('ext_modules', []),
    cmdclass={'build_py': BuildPy, **ext_kwargs.get('cmdclass', {})},
)
