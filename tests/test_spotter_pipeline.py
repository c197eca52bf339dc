"""Stage 2 through the installed commands: synth -> pseudo-label -> train-spotter -> spot -> eval-e2e."""
import json


def test_synth_pseudo_train_spot_eval(wecromcl, tmp_path, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # the commands run as subprocesses; on a shared 2-core machine one thread is faster
    syn = tmp_path / 'syn'
    r = wecromcl('synth', '--out', syn, '--n-images', 3, '--seed', 7, '--preset', 'tiny')
    assert r.returncode == 0, r.stderr
    r = wecromcl('pseudo-label', '--ann', syn / 'labels.json', '--img-root', syn, '--out', tmp_path / 'pseudo.json')
    assert r.returncode == 0, r.stderr
    pseudo, ann = json.loads((tmp_path / 'pseudo.json').read_text()), json.loads((syn / 'labels.json').read_text())
    assert set(pseudo) == set(ann) and all(sorted(pseudo[k]['text']) == sorted(ann[k]) for k in ann)
    r = wecromcl('train-spotter', '--points', 'pseudo', '--labels', tmp_path / 'pseudo.json', '--img-root', syn,
                 '--out', tmp_path / 'run', '--steps', 3, '--epoch-len', 2)
    assert r.returncode == 0, r.stderr
    assert '--steps 3 rounds up to whole epochs of 2 steps: 4 steps' in r.stdout
    assert (tmp_path / 'run' / 'spotter.pth').is_file() and 'trained on pseudo points for 4 steps' in r.stdout
    r = wecromcl('spot', syn / 'images', '--ckpt', tmp_path / 'run' / 'spotter.pth', '--root', syn,
                 '--out', tmp_path / 'spots.json', '--vis', tmp_path / 'vis')
    assert r.returncode == 0, r.stderr
    spots = json.loads((tmp_path / 'spots.json').read_text())
    assert set(spots) == set(ann) and len(list((tmp_path / 'vis').rglob('*.jpg'))) == 3
    r = wecromcl('eval-e2e', '--result', tmp_path / 'spots.json', '--gts', syn / 'gts.json', '--thresholds', 0,
                 '--json', tmp_path / 'e2e.json')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / 'e2e.json').read_text())
    assert m['n_gt'] == sum(map(len, ann.values())) and 0 <= m['hmean'] <= 1 and m['threshold'] == 0


def test_stage2_bad_input(tmp_path, capsys):
    "Bad input: exit status 2 and one line naming the problem (in-process: the command table's own dispatch)."
    from wecromcl.cli import main
    def run(*args):
        rc = main([str(a) for a in args])
        return rc, capsys.readouterr().err
    rc, err = run('train-spotter', '--points', 'pseudo')
    assert rc == 2 and '--points pseudo needs --labels' in err and len(err.strip().splitlines()) == 1
    (tmp_path / 'gts.json').write_text('{}'); (tmp_path / 'res.json').write_text('{}')
    rc, err = run('eval-e2e', '--result', tmp_path / 'res.json', '--gts', tmp_path / 'gts.json', '--lexicon', 'weak',
                  '--lexicon-path', tmp_path / 'weak.txt')
    assert rc == 2 and 'lexicon file not found' in err and 'weak.txt' in err
    (tmp_path / 'weak.txt').write_text('\n')
    rc, err = run('eval-e2e', '--result', tmp_path / 'res.json', '--gts', tmp_path / 'gts.json', '--lexicon', 'weak',
                  '--lexicon-path', tmp_path / 'weak.txt')
    assert rc == 2 and 'lexicon file is empty' in err and 'weak.txt' in err
    rc, err = run('spot', tmp_path / 'nothing.jpg', '--ckpt', tmp_path / 'none.pth')
    assert rc == 2 and 'no image or folder' in err


def test_pseudo_label_keeps_spaced_out_images(wecromcl, tmp_path):
    "`--min-spacing` keeps only the images whose words' points are that far apart, and says how many it kept."
    syn = tmp_path / 'syn'
    assert wecromcl('synth', '--out', syn, '--n-images', 4, '--seed', 3, '--preset', 'tiny').returncode == 0
    ann = json.loads((syn / 'labels.json').read_text())
    args = ['pseudo-label', '--ann', syn / 'labels.json', '--img-root', syn, '--out', tmp_path / 'p.json', '--min-spacing']
    r = wecromcl(*args, 100000)   # farther than any two points of an image: only images of one word stay
    assert r.returncode == 0 and f'of {len(ann)} images' in r.stdout, r.stdout + r.stderr
    kept = json.loads((tmp_path / 'p.json').read_text())
    assert set(kept) == {k for k, v in ann.items() if len(v) < 2}
    r = wecromcl(*args, -1)
    assert r.returncode == 2 and '--min-spacing -1' in r.stderr, r.stderr
