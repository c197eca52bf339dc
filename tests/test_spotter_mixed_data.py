"""SPTS trains on a mix of data sets: `train-spotter` takes several labelled sources with sampling weights, each the
kit's `{image: {text, points}}` file or SPTS's own COCO-style annotations; wrong combinations are one line each."""
import json
from conftest import one_line_error

TRAIN = ['train-spotter', '--points', 'gt', '--epochs', '1', '--epoch-len', '2', '--bs', '2', '--device', 'cpu']


def _thirds(a, b) -> list[float]:
    "A straight edge from a to b as a cubic Bézier's four control points (16 numbers make a word)."
    return [v for t in (0, 1 / 3, 2 / 3, 1) for v in (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))]


def _spts_annotations(gts: dict) -> dict:
    "The synthetic GT as SPTS's training file: each quadrilateral's top and bottom edges as Béziers, `rec` in ASCII codes."
    images, anns = [], []
    for i, (name, g) in enumerate(gts.items()):
        images.append({'id': i + 1, 'file_name': name, 'width': 512, 'height': 512})
        for text, (p0, p1, p2, p3) in zip(g['text'], g['polygons']):
            rec = [ord(c) - 32 for c in text[:25]] + [96] * (25 - len(text[:25]))
            anns.append({'image_id': i + 1, 'bezier_pts': _thirds(p0, p1) + _thirds(p2, p3), 'rec': rec, 'category_id': 1,
                         'area': 1, 'iscrowd': 0})
    return {'images': images, 'annotations': anns}


def test_two_sources_of_two_kinds(wecromcl, tmp_path):
    data = tmp_path / 'data'
    assert wecromcl('synth', '--out', data, '--n-images', '3', '--preset', 'tiny').returncode == 0
    gts = json.loads((data / 'gts.json').read_text())
    (data / 'spts.json').write_text(json.dumps(_spts_annotations(gts)))
    r = wecromcl(*TRAIN, '--labels', data / 'gts.json', data / 'spts.json', '--img-root', data, '--weights', '1', '3',
                 '--out', tmp_path / 'run')
    assert r.returncode == 0, r.stderr
    assert f"6 images from {data / 'gts.json'}, {data / 'spts.json'}" in r.stdout
    assert (tmp_path / 'run' / 'spotter.pth').is_file()


def test_mix_mistakes(wecromcl, tmp_path):
    (tmp_path / 'a.json').write_text('{"x.jpg": {"text": [], "points": []}}')
    (tmp_path / 'list.json').write_text('[1, 2]')
    two = ['--labels', tmp_path / 'a.json', tmp_path / 'a.json']
    one_line_error(wecromcl(*TRAIN, *two, '--img-root', tmp_path, '--weights', '1', '--out', tmp_path / 'r1'), '--weights', '1 for 2')
    one_line_error(wecromcl(*TRAIN, *two, '--img-root', tmp_path, tmp_path, tmp_path, '--out', tmp_path / 'r2'), '--img-root')
    one_line_error(wecromcl(*TRAIN, '--labels', tmp_path / 'list.json', '--img-root', tmp_path, '--out', tmp_path / 'r3'), 'list.json')
    one_line_error(wecromcl(*TRAIN, *two, '--img-root', tmp_path, '--weights', '1', '-1', '--out', tmp_path / 'r4'), 'weights', 'positive')
