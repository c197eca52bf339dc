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
