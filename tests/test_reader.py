"""`pretrain-reader` through the installed command: a run killed after a checkpoint and resumed ends with the weights
of a run that never stopped, and `train-spotter --backbone-init` starts from its body.pth or says why it cannot (nor
does a spotter resume a reader's run); `--backbone-init shipped` starts it from the kit's reader."""
import subprocess, sys
import torch
from test_resume_kill import ENV, LIMIT, MAIN, _kill_when, _saved

ARGS = ['--synth', 'small', '--val', '4', '--epochs', '4', '--epoch-len', '3', '--seed', '1']


def _reader(out, *args, **kw):
    return subprocess.run([sys.executable, '-c', MAIN, 'pretrain-reader', '--out', str(out), *args], env=ENV,
                          capture_output=True, text=True, timeout=LIMIT, **kw)


def test_killed_reader_resumes_to_the_uninterrupted_weights(tmp_path):
    r = _reader(tmp_path/'ref', *ARGS)
    assert r.returncode == 0, r.stderr
    run = tmp_path/'run'
    p = subprocess.Popen([sys.executable, '-c', MAIN, 'pretrain-reader', '--out', str(run), *ARGS], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _kill_when(p, _saved(run/'checkpoint.pth', 1)), 'the run ended before its first checkpoint could be cut short'
    assert not (run/'body.pth').exists()
    r = _reader(run, '--resume')
    assert r.returncode == 0, r.stderr
    a, b = (torch.load(d/'body.pth', weights_only=True) for d in (tmp_path/'ref', run))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    r = _reader(run, *ARGS)
    assert r.returncode == 2 and '--overwrite' in r.stderr  # a finished run is not trained over


def test_spotter_starts_from_the_reader_body(wecromcl, tmp_path):
    r = _reader(tmp_path/'reader', '--synth', 'small', '--val', '4', '--epochs', '1', '--epoch-len', '2')
    assert r.returncode == 0, r.stderr
    body = tmp_path/'reader'/'body.pth'
    spot = ['train-spotter', '--points', 'gt', '--synth', 'small:8', '--epochs', '1', '--epoch-len', '1', '--val', '2']
    r = wecromcl(*spot, '--preset', 'tiny_c3', '--backbone-init', body, '--out', tmp_path/'sp')
    assert r.returncode == 0, r.stderr
    r = wecromcl(*spot, '--preset', 'tiny_c3', '--backbone-init', 'shipped', '--out', tmp_path/'sp1')  # the kit's reader
    assert r.returncode == 0, r.stderr
    assert torch.load(tmp_path/'sp1'/'checkpoint.pth', weights_only=True)['run']['backbone_init'].endswith('reader.pth')
    r = wecromcl(*spot, '--backbone-init', tmp_path/'missing.pth', '--out', tmp_path/'sp2')
    assert r.returncode == 2 and 'missing.pth' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = wecromcl(*spot, '--backbone', 'stage1_tiny', '--backbone-init', body, '--out', tmp_path/'sp3')
    assert r.returncode == 2 and '--backbone-init' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = wecromcl('train-spotter', '--resume', '--out', tmp_path/'reader')  # a reader's run is not a spotter's to resume
    assert r.returncode == 2 and "(format 'wecromcl-reader')" in r.stderr and 'Traceback' not in r.stderr, r.stderr
