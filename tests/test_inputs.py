"""Group 5 of the reliability issue: inputs that used to give a silently wrong result are read right or refused,
and what the model cannot use is counted. Each case is a real file through the installed command."""
import json
import numpy as np
from PIL import Image


def test_16_bit_grayscale_png_is_read_right(tmp_path):
    from wecromcl.readers import read_image
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / 'g16.png')
    px = read_image(tmp_path / 'g16.png')
    assert px.min() == 0 and px.max() == 255 and abs(float(px.mean()) - 127.5) < 2  # not an all-white image


def test_non_finite_points_and_scores_are_refused(wecromcl, tmp_path):
    gts = tmp_path / 'gts.json'; gts.write_text(json.dumps({'a.jpg': {'text': ['x'], 'points': [[1, 1]]}}))
    for point, score in (('[NaN, 1]', '1'), ('[1, 2]', 'NaN'), ('[1, 2]', 'null'), ('["1", 2]', '1')):
        res = tmp_path / 'res.json'
        res.write_text(f'{{"a.jpg": {{"text": ["x"], "points": [{point}], "scores": [{score}]}}}}')
        r = wecromcl('eval-anchors', '--result', res, '--gts', gts)
        assert r.returncode == 2 and "'a.jpg'" in r.stderr and 'res.json' in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_synth_takes_only_what_it_documents(wecromcl, tmp_path):
    for opt, spec in (('--synth', 'foo'), ('--synth', str(tmp_path)), ('--synth', 'small:0'), ('--data', 'synth:0'), ('--data', 'small')):
        r = wecromcl('train', opt, spec, '--steps', '1', '--out', tmp_path / 'run')
        assert r.returncode == 2 and f'{opt} {spec}' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path / 'run').exists()


def test_old_data_spelling_still_trains(wecromcl, tmp_path):
    "`--data synth:N` (before `--synth`) keeps working for one release, with a notice that names the new spelling."
    r = wecromcl('train', '--data', 'synth:4', '--val', 0, '--bs', 2, '--size', 64, '--steps', 1, '--workers', 0,
                 '--out', tmp_path / 'run')
    assert r.returncode == 0, r.stderr
    assert '--data is deprecated' in r.stderr and '--synth small:4' in r.stderr, r.stderr
    assert json.loads((tmp_path / 'run' / 'summary.json').read_text())['train_config']['synth'] == 'small'


def test_gt_in_another_format_is_detected(wecromcl, tmp_path):
    (tmp_path / 'gt').mkdir()
    (tmp_path / 'gt' / 'gt_img_1.txt').write_text('377,117,463,117,465,130,378,130,Genaxis Theatre\n')  # ICDAR2015
    r = wecromcl('convert', 'icdar2013', '--gt', tmp_path / 'gt', '--out-ann', tmp_path / 'a.json', '--out-gts', tmp_path / 'g.json')
    assert r.returncode == 2 and 'gt_img_1.txt:1' in r.stderr and 'ICDAR2015' in r.stderr, r.stderr
    assert not (tmp_path / 'a.json').exists() and not (tmp_path / 'g.json').exists()


def test_unreadable_and_long_words_and_huge_images_are_counted(wecromcl, tmp_path):
    from wecromcl.locate import HUGE_SIDE
    Image.fromarray(np.full((48, HUGE_SIDE + 64, 3), 200, np.uint8)).save(tmp_path / 'wide.png')
    long_a, long_b = 'a' * 30 + 'first', 'a' * 30 + 'second'  # the same first 25 characters
    r = wecromcl('locate', tmp_path / 'wide.png', '--words', 'hello', '東京', long_a, long_b, '--out', tmp_path / 'r.json',
                 '--max-side', '-1')  # each image at its own size: the huge-image guard's case
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / 'r.json').read_text())[str(tmp_path / 'wide.png')]  # the path as given
    assert res['text'] == ['hello', long_a, long_b]  # no point for a word with nothing to read
    assert all(0 <= x < HUGE_SIDE + 64 for x, _ in res['points'])
    for says in ('1 words have no character', '2 words are longer than 25', f'1 images longer than {HUGE_SIDE} px'):
        assert says in r.stderr, r.stderr


def test_locate_reads_a_folder_as_spot_does(wecromcl, tmp_path):
    "Upper-case and other extensions Pillow reads are images; the other files are counted, not silently dropped."
    import cv2, numpy as np
    d = tmp_path / 'photos'; d.mkdir()
    for name in ('A.JPG', 'b.tif'): cv2.imwrite(str(d / name), np.full((64, 96, 3), 200, np.uint8))
    (d / 'notes.txt').write_text('x')
    r = wecromcl('locate', d, '--words', 'shop')
    assert r.returncode == 0, r.stderr
    assert 'A.JPG' in r.stdout and 'b.tif' in r.stdout and 'located 2 words in 2 images' in r.stdout, r.stdout
    assert 'the same 1 word asked of each of the 2 images' in r.stdout, r.stdout  # not a list per image: said
    assert '1 files under' in r.stderr and 'notes.txt' in r.stderr, r.stderr


def test_an_unreadable_image_of_a_folder_is_counted(wecromcl, tmp_path):
    "`spot` and `locate` read the rest of a folder past a broken image, and say how many they skipped."
    import cv2
    from wecromcl.spotter import Spotter, SpotterConfig, save_spotter
    d = tmp_path / 'imgs'; d.mkdir()
    cv2.imwrite(str(d / 'good.png'), np.full((64, 96, 3), 200, np.uint8))
    (d / 'broken.jpg').write_bytes(b'\xff\xd8 not really a JPEG')
    ck = save_spotter(Spotter(SpotterConfig.preset('tiny')), tmp_path / 'spotter.pth')
    long_out = tmp_path / ('r' * 245 + '.json')  # a valid name, longer than its temporary's would be without care
    for args in (['spot', d, '--ckpt', ck, '--out', long_out], ['locate', d, '--words', 'shop', '--out', long_out]):
        r = wecromcl(*args)
        assert r.returncode == 0, r.stderr
        assert '1 of 2 images could not be read' in r.stderr or '1 images could not be read' in r.stderr, r.stderr
        assert list(json.loads(long_out.read_text())) == ['good.png' if args[0] == 'spot' else str(d / 'good.png')]


def test_extreme_image_shapes_and_test_sides(wecromcl, tmp_path):
    "A 5000x1 strip is located (its short side kept at 32 px); a test side that would need 40 GB is refused in one line."
    Image.new('RGB', (5000, 1), (128, 128, 128)).save(tmp_path / 'strip.png')
    Image.new('RGB', (64, 48), (128, 128, 128)).save(tmp_path / 'grey.png')
    r = wecromcl('locate', tmp_path / 'strip.png', '--words', 'hi')
    assert r.returncode == 0 and 'test resize: long side 160' in r.stdout, r.stdout + r.stderr  # the scale the weights know, said
    r = wecromcl('locate', tmp_path / 'grey.png', '--words', 'hi', '--min-side', '100000')
    assert r.returncode == 2 and '--min-side' in r.stderr and r.stderr.count('\n') == 1, r.stderr


def test_ctrl_c_keeps_what_was_located(tmp_path):
    "Ctrl-C (SIGINT) once `locate` is at work: exit 130, and the result file holds the images done so far."
    import os, signal, subprocess, sys
    imgs = tmp_path / 'imgs'; imgs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(400): Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(imgs / f'{i:03d}.png')
    exe = os.path.join(os.path.dirname(sys.executable), 'wecromcl')
    p = subprocess.Popen([exe, 'locate', imgs, '--words', 'hi', 'there', '--out', tmp_path / 'r.json'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1'),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # a background job's shell ignores SIGINT
    for line in p.stdout:   # SIGINT only once images are being located (earlier, Python itself would end the process)
        if '50/400 images' in line: break
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err[-1000:], out[-300:])
    done = json.loads((tmp_path / 'r.json').read_text())
    assert 50 <= len(done) < 400 and 'interrupted: wrote the' in err, (len(done), err[-500:])
