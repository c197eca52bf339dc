"""SPTS's two phases: `train-spotter --finetune-from RUN` goes on from a finished run's weights *and* optimizer state at
a constant rate, with that run's model and recipe; an unfinished or missing run is one line naming the option."""
import torch
from conftest import one_line_error

BASE = ['train-spotter', '--points', 'gt', '--synth', 'tiny:8', '--val', '1', '--epoch-len', '3', '--device', 'cpu']


def _checkpoint(folder):
    return torch.load(folder / 'checkpoint.pth', weights_only=True)


def _adam_steps(ck) -> set:
    "The step counts of Adam's state, one per trained parameter."
    return {int(s['step']) for s in ck['optimizer']['state'] if 'step' in s}


def test_finetune_goes_on_from_the_optimizer_state(wecromcl, tmp_path):
    pre, fine = tmp_path / 'pre', tmp_path / 'fine'
    r = wecromcl(*BASE, '--epochs', '2', '--out', pre)
    assert r.returncode == 0, r.stderr
    r = wecromcl(*BASE, '--epochs', '1', '--finetune-from', pre, '--out', fine)
    assert r.returncode == 0, r.stderr
    a, b = _checkpoint(pre), _checkpoint(fine)
    assert _adam_steps(a) == {6} and _adam_steps(b) == {9}   # Adam's moments went on: 2 x 3 steps, then 3 more
    assert b['train_config']['schedule'] == 'constant' and b['train_config']['lr'] == a['train_config']['min_lr']
    assert b['config'] == a['config'] and b['run']['finetune_from'] == str(pre)
    assert any(not torch.equal(a['model'][k], b['model'][k]) for k in a['model'])


def test_finetune_from_an_unfinished_or_missing_run(wecromcl, tmp_path):
    pre = tmp_path / 'pre'
    assert wecromcl(*BASE, '--epochs', '1', '--out', pre).returncode == 0
    ck = _checkpoint(pre); ck['n_epoch'] = 3
    torch.save(ck, pre / 'checkpoint.pth')   # as a run stopped after its first of 3 epochs leaves it
    one_line_error(wecromcl(*BASE, '--finetune-from', pre, '--out', tmp_path / 'a'), '--finetune-from', '1 of 3 epochs')
    one_line_error(wecromcl(*BASE, '--finetune-from', tmp_path / 'none', '--out', tmp_path / 'b'), '--finetune-from', 'no checkpoint.pth')
    one_line_error(wecromcl(*BASE, '--finetune-from', pre, '--init', pre / 'spotter.pth', '--out', tmp_path / 'c'), '--finetune-from')
