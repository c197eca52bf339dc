"""The stage-1 pipeline through the installed commands: synthetic data -> locate -> eval-anchors."""
import json
import torch
from wecromcl.checkpoint import save_model
from wecromcl.model import WeCromCL, WeCromCLConfig


def test_synth_locate_eval(wecromcl, tmp_path):
    r = wecromcl('synth', '--out', tmp_path / 'syn', '--n-images', 3, '--seed', 5, '--side', 128)
    assert r.returncode == 0, r.stderr
    torch.manual_seed(0)
    ckpt = save_model(WeCromCL(WeCromCLConfig.preset('tiny')), tmp_path / 'tiny.pth')
    r = wecromcl('locate', '--ckpt', ckpt, '--ann', tmp_path / 'syn' / 'labels.json', '--img-root', tmp_path / 'syn',
                 '--out', tmp_path / 'res.json', '--vis', tmp_path / 'vis')
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / 'res.json').read_text())
    ann = json.loads((tmp_path / 'syn' / 'labels.json').read_text())
    assert set(res) == set(ann)
    assert all(sorted(res[k]['text']) == sorted(ann[k]) for k in ann)
    assert len(list((tmp_path / 'vis').rglob('*.anchors.jpg'))) == 3  # a page of maps per image
    r = wecromcl('eval-anchors', '--result', tmp_path / 'res.json', '--gts', tmp_path / 'syn' / 'gts.json',
                 '--json', tmp_path / 'm.json')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / 'm.json').read_text())
    assert m['fixed_threshold']['n_gt'] == sum(map(len, ann.values())) and 0 <= m['fixed_threshold']['hmean'] <= 1


def test_locate_bad_checkpoint(wecromcl, tmp_path):
    (tmp_path / 'ann.json').write_text('{}')
    r = wecromcl('locate', '--ckpt', tmp_path / 'nothing.pth', '--ann', tmp_path / 'ann.json', '--img-root', tmp_path)
    assert r.returncode == 2 and 'checkpoint not found' in r.stderr
