"Loading a checkpoint never runs code: every reader uses `weights_only=True` and refuses pickled objects with a message."
import pytest
import torch
from wecromcl.checkpoint import load_checkpoint, load_model


class _Payload:
    "Unpickling this runs `touch MARKER` (what a malicious .pth would do)."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self):
        import os
        return (os.system, (f'touch {self.marker}',))


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path/'ran'
    path = tmp_path/'evil.pth'
    torch.save({'format': 'wecromcl-stage1', 'model': _Payload(marker)}, path)
    return path, marker


def test_readers_refuse_pickled_code(evil):
    path, marker = evil
    for read in (load_model, load_checkpoint):
        with pytest.raises(ValueError, match='refused'): read(path)
    assert not marker.exists()


def test_cli_refuses_pickled_code(evil, wecromcl, tmp_path):
    path, marker = evil
    ann = tmp_path/'ann.json'; ann.write_text('{}')
    r = wecromcl('locate', '--ckpt', path, '--ann', ann, '--img-root', tmp_path, '--out', tmp_path/'r.json')
    assert r.returncode == 2 and 'refused' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not marker.exists()


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path/'cut.pth'
    torch.save({'model': {'w': torch.zeros(1000)}}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match='not a readable checkpoint'): load_model(path)


def _image(folder):
    "A plain grey image to run a command on."
    from PIL import Image
    Image.new('RGB', (64, 48), (128, 128, 128)).save(folder/'grey.png')
    return folder/'grey.png'


def _edited(src, dst, edit):
    "A copy of the checkpoint `src` with its config changed by `edit` (a newer kit's file, a damaged one)."
    ck = torch.load(src, weights_only=True)
    edit(ck)
    torch.save(ck, dst)
    return dst


@pytest.mark.parametrize('edit, says', [
    (lambda ck: ck['config'].update(future_field=1), 'has no field future_field'),
    (lambda ck: ck.pop('config'), 'no `config` entry'),
    (lambda ck: ck['config']['text'].update(embed_dim=2**20, width=2**20), 'config text.width 1048576'),
    (lambda ck: ck['config']['image'].update(layers=[1, -3, 1, 1]), 'config image.layers -3')],
    ids=['unknown', 'missing', 'huge', 'negative'])
def test_stage1_config_checked_before_building(wecromcl, tmp_path, edit, says):
    "An unknown, missing or absurd config field is one line naming the file, before any model is allocated."
    from wecromcl.core import asset
    bad = _edited(asset('weights', 'tiny.pth'), tmp_path/'bad.pth', edit)
    r = wecromcl('locate', _image(tmp_path), '--words', 'hi', '--ckpt', bad)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and 'bad.pth' in r.stderr and says in r.stderr, r.stderr


def test_spotter_config_checked_before_building(wecromcl, tmp_path):
    from wecromcl.spotter import Spotter, SpotterConfig, save_spotter
    good = save_spotter(Spotter(SpotterConfig.preset('tiny')), tmp_path/'sp.pth')
    bad = _edited(good, tmp_path/'huge.pth', lambda ck: ck['config'].update(d_model=2**20))
    r = wecromcl('spot', _image(tmp_path), '--ckpt', bad)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and 'huge.pth: config d_model 1048576' in r.stderr, r.stderr
