"""`train-spotter` and `pretrain-reader` SIGKILLed at a checkpoint save, at the first save of a resume (where fastai's
skipped epochs used to roll the checkpoint back) and in the first seconds of a resume, then resumed with `--resume`
alone until they end: the weights, every step's loss and `log.csv` are those of a run that never stopped; no killed
writer's temporary stays; a changed setting on `--resume` is refused; a finished run's `--resume` is a no-op."""
import csv, json, subprocess, sys, time
from pathlib import Path
import pytest, torch
from test_resume_kill import ENV, LIMIT, MAIN, _kill_when, _saved
from conftest import one_line_error

RUNS = {'train-spotter': (['--points', 'gt', '--synth', 'tiny:12', '--val', '1', '--bs', '2', '--epochs', '4', '--epoch-len', '2'],
                          'spotter.pth'),
        'pretrain-reader': (['--synth', 'tiny:12', '--val', '1', '--epochs', '4', '--epoch-len', '2'], 'body.pth')}


def _start(command, out: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-c', MAIN, command, '--out', str(out), '--device', 'cpu', *args], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _run(command, out: Path, *args):
    return subprocess.run([sys.executable, '-c', MAIN, command, '--out', str(out), '--device', 'cpu', *args], env=ENV,
                          capture_output=True, text=True, timeout=LIMIT)


@pytest.mark.parametrize('command', RUNS)
def test_killed_and_resumed_equals_uninterrupted(tmp_path, command):
    args, final = RUNS[command]
    ref, run = tmp_path / 'ref', tmp_path / 'run'
    assert _run(command, ref, *args).returncode == 0
    ck = run / 'checkpoint.pth'
    assert _kill_when(_start(command, run, *args), _saved(ck, 1))          # right after the first save
    assert _kill_when(_start(command, run, '--resume'), _saved(ck, 1))     # at the first save of a resume
    p = _start(command, run, '--resume'); time.sleep(3); p.kill(); p.wait()  # in the first seconds of a resume
    for _ in range(4):
        if (run / final).exists(): break
        r = _run(command, run, '--resume'); assert r.returncode == 0, r.stderr
    a, b = (torch.load(d / 'checkpoint.pth', weights_only=True)['model'] for d in (ref, run))
    assert all(torch.equal(a[k], b[k]) for k in a), 'resumed weights differ from the uninterrupted run'
    assert [int(r['epoch']) for r in csv.DictReader((run / 'log.csv').open())] == [0, 1, 2, 3]
    assert not [f.name for f in run.glob('.*.tmp*')], 'a killed writer left its temporary file'
    if command == 'train-spotter':  # the reader keeps no per-step history
        la, lb = (json.loads((d / 'losses.json').read_text())['losses'] for d in (ref, run))
        assert la == lb
    assert 'already complete' in _run(command, run, '--resume').stdout


def test_resume_refuses_a_changed_setting(tmp_path):
    args, _ = RUNS['train-spotter']
    assert _run('train-spotter', tmp_path / 'run', *args).returncode == 0
    one_line_error(_run('train-spotter', tmp_path / 'run', '--resume', '--lr', '0.5'), '--lr 0.5', 'began with')
