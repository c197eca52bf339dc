"""Group 4 of the reliability issue: a run's history survives its resumes, and an output pair is never half written.
(Stage 1's history across kills and resumes: `tests/test_resume_kill.py`.)"""
import csv, json


def test_spotter_history_covers_every_segment(wecromcl, tmp_path):
    run = tmp_path / 'run'
    base = ['train-spotter', '--points', 'gt', '--synth', 'tiny:8', '--out', run, '--epoch-len', 2]
    r = wecromcl(*base, '--epochs', 3, '--minutes', 1e-6)  # the time budget stops it after its first epoch
    assert r.returncode == 0, r.stderr
    r = wecromcl('train-spotter', '--out', run, '--epochs', 3, '--resume')
    assert r.returncode == 0, r.stderr
    assert [int(row['epoch']) for row in csv.DictReader((run / 'log.csv').open())] == [0, 1, 2]
    assert len(json.loads((run / 'losses.json').read_text())['losses']) == 6
    r = wecromcl(*base, '--epochs', 1)
    assert r.returncode == 2 and '--overwrite' in r.stderr  # a finished run is not trained over


def test_convert_writes_both_files_or_neither(wecromcl, tmp_path):
    (tmp_path / 'gt').mkdir()
    (tmp_path / 'gt' / 'gt_img_1.txt').write_text('1,1,30,1,30,9,1,9,hello\n')
    (tmp_path / 'file').write_text('x')
    r = wecromcl('convert', 'icdar2015', '--gt', tmp_path / 'gt', '--no-image-check',
                 '--out-ann', tmp_path / 'a.json', '--out-gts', tmp_path / 'file' / 'g.json')
    assert r.returncode == 2 and '--out-gts' in r.stderr, r.stderr
    assert not (tmp_path / 'a.json').exists()
    r = wecromcl('convert', 'icdar2015', '--gt', tmp_path / 'gt', '--no-image-check',
                 '--out-ann', tmp_path / 'a.json', '--out-gts', tmp_path / 'g.json')
    assert r.returncode == 0 and (tmp_path / 'a.json').exists() and (tmp_path / 'g.json').exists(), r.stderr

