"""`wecromcl convert` and `wecromcl synth` run as a user runs them (a subprocess), on data the tests make."""
import json

import cv2
import numpy as np

from wecromcl.readers import write_fixture


def test_convert_icdar2015(wecromcl, tmp_path):
    gt, images = write_fixture('icdar2015', tmp_path)
    (gt / 'gt_img_2.txt').write_text('1,2,3,4,5,6,7,8,lost\n')  # its image is missing: skipped and counted
    r = wecromcl('convert', 'icdar2015', '--gt', gt, '--images', images,
            '--out-ann', tmp_path / 'ann.json', '--out-gts', tmp_path / 'gts.json', '--report', tmp_path / 'rep.json')
    assert r.returncode == 0, r.stderr
    assert 'missing images' in r.stdout and 'dropped: ignored (###)' in r.stdout
    ann = json.loads((tmp_path / 'ann.json').read_text(encoding='utf-8'))
    assert ann == {'img_1.jpg': ['"Hello, world"', '1,888', 'CAF']}
    gts = json.loads((tmp_path / 'gts.json').read_text(encoding='utf-8'))
    assert gts['img_1.jpg']['text'] == ann['img_1.jpg'] and len(gts['img_1.jpg']['points']) == 3
    counts = json.loads((tmp_path / 'rep.json').read_text())['counts']
    assert counts['missing images'] == 1 and counts['words kept'] == 3


def test_convert_keeps_all_on_request(wecromcl, tmp_path):
    gt, images = write_fixture('totaltext', tmp_path)
    r = wecromcl('convert', 'totaltext', '--gt', gt, '--images', images, '--keep-ignored', '--min-len', '0',
            '--point', 'first_vertex', '--out-ann', tmp_path / 'a.json', '--out-gts', tmp_path / 'g.json')
    assert r.returncode == 0, r.stderr
    gts = json.loads((tmp_path / 'g.json').read_text())
    assert gts['img1.jpg']['points'] == [[20, 40], [170, 30], [20, 120]]


def test_convert_bad_input(wecromcl, tmp_path):
    (tmp_path / 'gt').mkdir()
    (tmp_path / 'gt' / 'gt_img_1.txt').write_text('1,2,3,word\n')
    r = wecromcl('convert', 'icdar2015', '--gt', tmp_path / 'gt', '--out-ann', tmp_path / 'a.json', '--out-gts', tmp_path / 'g.json')
    assert r.returncode == 2 and 'gt_img_1.txt:1' in r.stderr
    r = wecromcl('convert', 'icdar2015', '--gt', tmp_path / 'nothere', '--out-ann', tmp_path / 'a.json', '--out-gts', tmp_path / 'g.json')
    assert r.returncode == 2 and 'nothere' in r.stderr
    r = wecromcl('convert', 'icdar2015', '--gt', tmp_path / 'gt')
    assert r.returncode == 2 and 'the following arguments are required: --out-ann, --out-gts' in r.stderr


def test_synth(wecromcl, tmp_path):
    out = tmp_path / 'syn'
    r = wecromcl('synth', '--out', out, '--n-images', 3, '--seed', 7, '--side', 96, '--words', 1, 3)
    assert r.returncode == 0, r.stderr
    labels = json.loads((out / 'labels.json').read_text())
    gts = json.loads((out / 'gts.json').read_text())
    assert list(labels) == list(gts) == [f'images/{i:07d}.jpg' for i in range(3)]
    for k, words in labels.items():
        assert (out / k).is_file() and 1 <= len(words) <= 3
        assert gts[k]['text'] == words and len(gts[k]['polygons']) == len(words)
        assert all(cv2.pointPolygonTest(np.float32(poly), tuple(map(float, pt)), False) >= 0
                   for poly, pt in zip(gts[k]['polygons'], gts[k]['points']))  # each GT point lies in its word's polygon
    assert not (out / 'polygons.json').exists()  # one home for the polygons: gts.json
    first = (out / 'images/0000000.jpg').read_bytes()
    r = wecromcl('synth', '--out', tmp_path / 'again', '--n-images', 1, '--seed', 7, '--side', 96, '--words', 1, 3)
    assert r.returncode == 0 and (tmp_path / 'again/images/0000000.jpg').read_bytes() == first  # same seed, same image


def test_bench_synth(wecromcl, tmp_path):
    r = wecromcl('bench', 'synth', '--n-images', 3, '--side', 96, '--max-words', 2, '--json', tmp_path / 'b.json')
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / 'b.json').read_text())
    assert {'images_per_s', 'side', 'max_words', 'workers'} <= set(res) and res['side'] == 96


def test_bad_photos_are_one_line(wecromcl, tmp_path):
    "`synth --photos`: an empty folder, or a photo too small to crop, is one line naming it, never a plain background instead."
    photos = tmp_path / 'photos'; photos.mkdir()
    r = wecromcl('synth', '--out', tmp_path / 'a', '--n-images', 6, '--preset', 'tiny', '--photos', photos)
    assert r.returncode == 2 and 'no images under' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    from PIL import Image
    Image.new('RGB', (40, 5)).save(photos / 'strip.png')
    r = wecromcl('synth', '--out', tmp_path / 'b', '--n-images', 6, '--preset', 'tiny', '--photos', photos)
    assert r.returncode == 2 and 'strip.png' in r.stderr and 'too small' in r.stderr and 'Traceback' not in r.stderr, r.stderr
