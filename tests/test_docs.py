"""The notebooks teach and the record lives in one place (docs/results/): the checks `make test` runs on the prose.

A markdown cell stays readable at a glance (at most `MAX_WORDS` words); a library notebook holds no dated log entry
(the dated record of an experiment is a file in docs/results/, which states `FIELDS`); the README's Results table
keeps at most `MAX_RESULT_ROWS` rows, where the kit stands now.
"""
import json, re, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import results_index  # noqa: E402  (a script of the repository, not of the package)

MAX_WORDS = 300
MAX_RESULT_ROWS = 8
DATE = re.compile(r'\b20\d\d-\d\d-\d\d\b')
NOTEBOOKS = sorted((ROOT / 'nbs').glob('*.ipynb'))
README_NB = ROOT / 'nbs' / 'index.ipynb'  # the README: its result rows carry their dates


def markdown_cells(nb: Path):
    return [''.join(c['source']) for c in json.loads(nb.read_text(encoding='utf-8'))['cells'] if c['cell_type'] == 'markdown']


def first_words(text: str) -> str: return ' '.join(text.split()[:8])


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_cells_short(nb):
    long = [(len(s.split()), first_words(s)) for s in markdown_cells(nb) if len(s.split()) > MAX_WORDS]
    assert not long, f'{nb.name}: markdown cells over {MAX_WORDS} words (split them, or move a log to docs/results/): {long}'


@pytest.mark.parametrize('nb', [p for p in NOTEBOOKS if p != README_NB], ids=lambda p: p.stem)
def test_no_dated_log(nb):
    dated = [(DATE.search(s)[0], first_words(s)) for s in markdown_cells(nb) if DATE.search(s)]
    assert not dated, f'{nb.name}: dated entries belong in a record of docs/results/, linked from here: {dated}'


def test_records_state_their_fields():
    records = sorted(results_index.RECORDS.glob('*.md'))
    assert records
    for p in records:
        missing = [f for f in results_index.FIELDS if f not in results_index.record_fields(p)]
        assert not missing, f'{p.name} lacks {missing}'
        assert not DATE.search(p.name), f'{p.name}: name records by topic (the date is a field), so links carry no date'


def test_results_index_current():
    text = results_index.RESULTS.read_text(encoding='utf-8')
    assert results_index.with_index(text) == text, 'docs/results.md is out of date: run `make export`'


def test_readme_results_short():
    cell = next(s for s in markdown_cells(README_NB) if s.startswith('## Results'))
    rows = [l for l in cell.splitlines() if l.startswith('|')][2:]  # past the header and its rule
    assert 0 < len(rows) <= MAX_RESULT_ROWS, f'the README keeps at most {MAX_RESULT_ROWS} result rows, not {len(rows)}'
    assert all(DATE.search(r) for r in rows), 'every README result row says when it was measured'
