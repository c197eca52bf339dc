"""Sizes kept: a module of the package holds at most `MAX_MODULE_LINES` lines and an exported cell at most
`MAX_CELL_LINES`, so that each reads at a sitting. The few still over are listed with their size today: they may only
shrink (splitting them is open work of the structure issue), and nothing new joins them. Imports flow one way: a
module imports only modules of notebooks numbered before its own, as the notebooks are read."""
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES, MAX_CELL_LINES = 400, 60
OVER_MODULES = {'benchmarks': 408}  # module -> its lines today
OVER_CELLS = {'Stage1DL': 93, 'train': 113, 'demo': 80, 'train_spotter': 96, 'pretrain_reader': 67,
              'bench_spotter_curve': 69}  # the one definition of an exported cell -> the cell's lines today
MODULES = sorted(p for p in (ROOT / 'wecromcl').glob('*.py') if not p.name.startswith('_'))


@pytest.mark.parametrize('module', MODULES, ids=lambda p: p.stem)
def test_module_size(module):
    n, limit = len(module.read_text(encoding='utf-8').splitlines()), OVER_MODULES.get(module.stem, MAX_MODULE_LINES)
    assert n <= limit, f'wecromcl/{module.name}: {n} lines, over {limit}: split it by concept (a notebook and module each)'


def test_export_cell_size():
    long = []
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for c in json.loads(nb.read_text(encoding='utf-8'))['cells']:
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or not src.startswith('#| export'): continue
            name = (re.search(r'^(?:def|class) (\w+)', src, re.M) or [None, None])[1]
            n = len(src.splitlines())
            if n > OVER_CELLS.get(name, MAX_CELL_LINES): long.append((nb.name, name, n))
    assert not long, f'exported cells over {MAX_CELL_LINES} lines (split them at a definition, or shorten it): {long}'


def test_the_list_is_current():
    "A module or cell that shrank under its limit leaves the list, so that the list is the debt left."
    sizes = {p.stem: len(p.read_text(encoding='utf-8').splitlines()) for p in MODULES}
    assert all(sizes[m] > MAX_MODULE_LINES for m in OVER_MODULES), {m: sizes[m] for m in OVER_MODULES}


def notebook_of(module: Path) -> str | None:
    "The notebook a module is exported from (`nbs/NN_name.ipynb` -> 'NN_name'), from the header nbdev writes."
    m = re.search(r'File to edit: \.\./nbs/(\w+)\.ipynb', module.read_text(encoding='utf-8'))
    return m and m[1]


def test_imports_flow_one_way():
    "No module imports a module whose notebook comes later (a user reading the notebooks in order meets every name first)."
    order = {p.stem: notebook_of(p) for p in MODULES}
    back = []
    for p in MODULES:
        for m in re.finditer(r'^\s*from \.(\w+) import|^\s*from \. import (\w+)', p.read_text(encoding='utf-8'), re.M):
            dep = m[1] or m[2]
            if order.get(dep) and order.get(p.stem) and order[dep] >= order[p.stem]: back.append(f'{p.stem} imports {dep}')
    assert not back, back
