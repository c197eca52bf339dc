"""`wecromcl eval-anchors` run as a user runs it (a subprocess), on tiny JSON files."""
import json


GT = {'a.jpg': {'text': ['STOP', 'EXIT', 'Sale'], 'points': [[0, 0], [100, 0], [0, 100]],
                'polygons': [[[-5, -5], [5, -5], [5, 5], [-5, 5]], [[95, -5], [105, -5], [105, 5], [95, 5]],
                             [[-5, 95], [5, 95], [5, 105], [-5, 105]]]},
      'b.jpg': {'text': ['open'], 'points': [[10, 10]]}}
RESULT = {'a.jpg': {'text': ['nope', 'stop', 'EXIT', 'Sale'], 'points': [[1, 1], [1, 1], [99, 0], [0, 99]],
                    'scores': [0.005, 0.035, 0.035, 0.035]}}


def write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def test_eval_anchors_good(wecromcl, tmp_path):
    res, gts = write(tmp_path, 'res.json', RESULT), write(tmp_path, 'gts.json', GT)
    r = wecromcl('eval-anchors', '--result', res, '--gts', gts, '--json', tmp_path / 'out' / 'm.json', '--threshold', '0.01')
    assert r.returncode == 0, r.stderr
    assert 'Hmean' in r.stdout and 'fixed threshold 0.01' in r.stdout
    m = json.loads((tmp_path / 'out' / 'm.json').read_text())
    best, fixed = m['official_sweep_best'], m['fixed_threshold']
    assert best['threshold'] == 0.03 and best['tp'] == 3 and best['n_gt'] == 4  # ties go to the higher threshold
    assert abs(best['precision'] - 1) < 1e-9 and abs(best['recall'] - 0.75) < 1e-9
    assert fixed['threshold'] == 0.01 and fixed['n_det'] == 3
    assert len(m['sweep']) == 6
    # default output path: beside the result
    r = wecromcl('eval-anchors', '--result', res, '--gts', gts)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'res_eval.json').exists()


def test_eval_anchors_missing_file(wecromcl, tmp_path):
    gts = write(tmp_path, 'gts.json', GT)
    r = wecromcl('eval-anchors', '--result', tmp_path / 'nothere.json', '--gts', gts)
    assert r.returncode == 2 and 'nothere.json' in r.stderr and 'not found' in r.stderr


def test_eval_anchors_missing_argument(wecromcl, tmp_path):
    r = wecromcl('eval-anchors', '--gts', write(tmp_path, 'gts.json', GT))
    assert r.returncode == 2 and '--result' in r.stderr


def test_eval_anchors_key_missing_in_gt(wecromcl, tmp_path):
    res = write(tmp_path, 'res.json', {**RESULT, 'zzz.jpg': {'text': ['a'], 'points': [[0, 0]], 'scores': [1.0]}})
    r = wecromcl('eval-anchors', '--result', res, '--gts', write(tmp_path, 'gts.json', GT))
    assert r.returncode == 2 and "'zzz.jpg'" in r.stderr and 'not in the GT' in r.stderr
    assert 'Traceback' not in r.stderr


def test_eval_anchors_malformed(wecromcl, tmp_path):
    r = wecromcl('eval-anchors', '--result', write(tmp_path, 'res.json', '{"a.jpg": '), '--gts', write(tmp_path, 'gts.json', GT))
    assert r.returncode == 2 and 'not valid JSON' in r.stderr
    bad = {'a.jpg': {'text': ['x', 'y'], 'points': [[0, 0]], 'scores': [1, 1]}}
    r = wecromcl('eval-anchors', '--result', write(tmp_path, 'res2.json', bad), '--gts', write(tmp_path, 'gts.json', GT))
    assert r.returncode == 2 and 'lists of different lengths' in r.stderr


def test_eval_anchors_prints_the_chance_level(wecromcl, tmp_path):
    from PIL import Image
    Image.new('RGB', (200, 200)).save(tmp_path / 'a.jpg')
    res, gts = write(tmp_path, 'res.json', RESULT), write(tmp_path, 'gts.json', GT)
    r = wecromcl('eval-anchors', '--result', res, '--gts', gts, '--img-root', tmp_path, '--json', tmp_path / 'm.json')
    assert r.returncode == 0 and 'random points, same words (chance): Hmean' in r.stdout, r.stdout + r.stderr
    m = json.loads((tmp_path / 'm.json').read_text())
    assert 0 <= m['random']['hmean'] < m['official_sweep_best']['hmean'] and 0 <= m['random']['point_in_polygon'] <= 1
    r = wecromcl('eval-anchors', '--result', res, '--gts', gts, '--img-root', tmp_path / 'none')
    assert r.returncode == 2 and 'a.jpg' in r.stderr, r.stderr
