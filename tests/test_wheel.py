"""The kit as a wheel, away from its checkout: the wheel built from the project, installed (not editable) into a
fresh environment, works from an unrelated working directory: the CLI, the synthetic generator (which reads the
vocabulary from the package's data), and `locate` with the shipped weights.

The wheel is built from a copy of the project (the checkout is never written to) with the C++ op only
(`WECROMCL_NO_CUDA=1`). When the checkout has no shipped weights yet, the copy gets an untrained `tiny` model in
their place, so the shipped-weights path is exercised either way. The fresh environment gets only the wheel
(`pip install --no-deps`); its dependencies (torch, fastai, ...) are made visible through a `.pth` file naming the
site-packages of the environment running the tests, whose own `wecromcl` (the editable install) stays out of reach.
"""
import json, os, shutil, site, subprocess, sys, venv, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ('setup.py', 'settings.ini', 'README.md', 'pyproject.toml', 'MANIFEST.in')
PROJECT_DIRS = ('wecromcl', 'cuda_ops', 'data')
VOCAB = 'wecromcl/assets/vocabulary/words.txt'  # where the wheel carries data/vocabulary/words.txt
WEIGHTS = 'wecromcl/assets/weights/tiny.pth'


def _run(cmd, cwd, env=None, timeout=600):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, text=True, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-4000:]}"
    return r.stdout


def project_copy(dst: Path) -> Path:
    "The files the build reads, copied to `dst`; an untrained tiny model as the shipped weights if there are none."
    dst.mkdir()
    for name in PROJECT_FILES:
        if (ROOT/name).exists(): shutil.copy(ROOT/name, dst/name)
    junk = shutil.ignore_patterns('_C*.so', '__pycache__', '.*', '*.egg-info')
    for name in PROJECT_DIRS: shutil.copytree(ROOT/name, dst/name, ignore=junk)
    if not (dst/'data'/'weights'/'tiny.pth').is_file():
        from wecromcl.checkpoint import save_model
        from wecromcl.model import WeCromCL, WeCromCLConfig
        save_model(WeCromCL(WeCromCLConfig.preset('tiny')).eval(), dst/'data'/'weights'/'tiny.pth', half=True)
    return dst


def fresh_env(path: Path) -> Path:
    "A new virtual environment whose own site-packages has no wecromcl; its python."
    venv.create(path, with_pip=True)
    py = path/'bin'/'python'
    purelib = _run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], cwd=path).strip()
    deps = [p for p in site.getsitepackages() + [site.getusersitepackages()] if p in sys.path]  # what the tests see
    (Path(purelib)/'_wecromcl_test_deps.pth').write_text('\n'.join(deps) + '\n')  # path lines only: no .pth inside run
    return py


def test_wheel_works_outside_the_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    proj = project_copy(tmp_path/'proj')
    dist = tmp_path/'dist'
    _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', dist, '.'], cwd=proj,
         env={**env, 'WECROMCL_NO_CUDA': '1', 'MAX_JOBS': env.get('MAX_JOBS', '2')})
    whl, = dist.glob('wecromcl-*.whl')
    names = set(zipfile.ZipFile(whl).namelist())
    assert VOCAB in names and WEIGHTS in names, f'the wheel lacks the package data: {sorted(names)}'
    assert 'wecromcl/assets/official_state_dict.txt' in names

    py = fresh_env(tmp_path/'venv')
    _run([py, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', whl], cwd=tmp_path, env=env)
    exe = py.parent/'wecromcl'
    work = tmp_path/'work'  # a working directory that is neither the checkout nor the project copy
    work.mkdir()

    _run([exe, 'info', '--json', 'info.json'], cwd=work, env=env)
    info = json.loads((work/'info.json').read_text())
    assert info['extension'] == 'built' and 'cpu' in info['op_backends'], info  # the compiled op is in the wheel

    _run([exe, 'synth', '--out', 'syn', '--n-images', '2', '--side', '96'], cwd=work, env=env)
    labels = json.loads((work/'syn'/'labels.json').read_text())
    assert len(labels) == 2

    _run([exe, 'locate', '--ann', 'syn/labels.json', '--img-root', 'syn', '--out', 'located.json'], cwd=work, env=env)
    located = json.loads((work/'located.json').read_text())
    assert set(located) == set(labels)
    assert all(len(r['points']) == len(r['text']) for r in located.values())

    code = f"""
import wecromcl
from pathlib import Path
from wecromcl.core import assets_dir, asset
from wecromcl.synth import synth_sample, load_vocabulary
from wecromcl.checkpoint import load_model
from wecromcl.image_encoder import official_shapes
pkg = Path(wecromcl.__file__).resolve().parent
assert not pkg.is_relative_to({str(ROOT)!r}) and not pkg.is_relative_to({str(proj)!r}), pkg
assert pkg.is_relative_to({str((tmp_path/'venv').resolve())!r}), pkg
assert assets_dir() == pkg/'assets', assets_dir()
assert len(load_vocabulary()) > 1000 and len(official_shapes()) > 100
s = synth_sample(seed=0, index=0)
assert s.image.ndim == 3 and s.words
model = load_model()
print('OK', pkg, len(s.words), sum(p.numel() for p in model.parameters()))
"""
    out = _run([py, '-c', code], cwd=work, env=env)
    assert 'OK' in out, out
