"""A run SIGKILLed at several moments (before, during and after a checkpoint save, and in the first seconds of a
resume), then resumed until it ends, finishes with the weights, losses and log of a run that never stopped."""
import csv, json, os, signal, subprocess, sys, time
from pathlib import Path
import torch

ARGS = ['--synth', 'small:40', '--val', '0', '--bs', '4', '--size', '64', '--epoch-len', '2', '--steps', '12',
        '--workers', '0', '--seed', '0', '--quiet']
MAIN = 'import sys; from wecromcl.cli import main; sys.exit(main())'
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')  # one thread: the same arithmetic in every process
LIMIT = 300  # seconds any one segment may take before the test gives up


def _start(out: Path, *extra) -> tuple[subprocess.Popen, Path]:
    log = out.parent/f'{out.name}.{time.monotonic_ns()}.log'
    p = subprocess.Popen([sys.executable, '-c', MAIN, 'train', '--out', str(out), *extra], env=ENV,
                         stdout=log.open('w'), stderr=subprocess.STDOUT)
    return p, log


def _mtime(f: Path) -> int:
    try: return f.stat().st_mtime_ns
    except FileNotFoundError: return 0


def _kill_when(p: subprocess.Popen, ready) -> bool:
    "SIGKILL `p` as soon as `ready()` holds; False if it ended first."
    t0 = time.monotonic()
    while p.poll() is None:
        if ready():
            p.send_signal(signal.SIGKILL); p.wait(); return True
        assert time.monotonic() - t0 < LIMIT, 'a training segment did not reach its kill point'
        time.sleep(0.001)
    return False


def _saved(ck: Path, n: int):
    "A condition: `ck` has been written `n` times since the condition was made."
    seen = dict(mtime=_mtime(ck), n=0)
    def ready():
        m = _mtime(ck)
        if m != seen['mtime']: seen.update(mtime=m, n=seen['n'] + 1)
        return seen['n'] >= n
    return ready


def _weights(out: Path) -> dict:
    return torch.load(out/'checkpoint.pth', weights_only=True)['model']


def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    ref = tmp_path/'ref'
    subprocess.run([sys.executable, '-c', MAIN, 'train', '--out', str(ref), *ARGS], env=ENV, check=True,
                   capture_output=True, timeout=LIMIT)
    run = tmp_path/'run'; ck = run/'checkpoint.pth'
    saving = lambda: any(f.name.startswith('.checkpoint.pth.tmp') for f in run.glob('.*'))
    kills = []
    # 1. right after a save: epoch 3 of 6 done
    p, _ = _start(run, *ARGS)
    kills.append(_kill_when(p, _saved(ck, 3)))
    # 2. in a resume, at its first checkpoint write (where fastai's skipped epochs used to roll the file back to epoch 1)
    p, _ = _start(run, '--resume', '--quiet')
    kills.append(_kill_when(p, _saved(ck, 1)))
    # 3. during a save: the temporary file is being written
    p, _ = _start(run, '--resume', '--quiet')
    kills.append(_kill_when(p, saving))
    # 4. early in a resume, mid-epoch, before any save
    p, log = _start(run, '--resume', '--quiet')
    kills.append(_kill_when(p, lambda: 'resuming at epoch' in log.read_text()))
    assert kills[:3] == [True, True, True], kills
    # resume until the run is complete
    for _ in range(8):
        if (run/'summary.json').exists(): break
        subprocess.run([sys.executable, '-c', MAIN, 'train', '--out', str(run), '--resume', '--quiet'], env=ENV,
                       check=True, capture_output=True, timeout=LIMIT)
    a, b = _weights(ref), _weights(run)
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst == 0.0, f'resumed weights differ from the uninterrupted run by up to {worst}'
    # the whole history: every epoch once in log.csv, every step's loss, the steps of all segments
    epochs = [int(r['epoch']) for r in csv.DictReader((run/'log.csv').open())]
    assert epochs == list(range(6)), epochs
    la, lb = (json.loads((d/'losses.json').read_text())['losses'] for d in (ref, run))
    assert lb == la and len(lb) == 12
    s = json.loads((run/'summary.json').read_text())
    assert s['steps'] == 12 and s['images'] == 48 and s['segments'] >= 3, s
    assert not [f.name for f in run.iterdir() if '.tmp' in f.name], 'stray temporary files left in the run folder'


def test_a_run_folder_is_not_overwritten(tmp_path):
    "A folder that holds a run is refused without --resume or --overwrite (exit 2, the files untouched)."
    run = tmp_path/'run'; run.mkdir(); (run/'summary.json').write_text('{"mine": 1}')
    r = subprocess.run([sys.executable, '-c', MAIN, 'train', '--out', str(run), *ARGS], env=ENV,
                       capture_output=True, text=True, timeout=LIMIT)
    assert r.returncode == 2 and '--overwrite' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert (run/'summary.json').read_text() == '{"mine": 1}'
    r = subprocess.run([sys.executable, '-c', MAIN, 'train', '--out', str(run), '--resume', '--overwrite'], env=ENV,
                       capture_output=True, text=True, timeout=LIMIT)
    assert r.returncode == 2 and 'give one' in r.stderr
