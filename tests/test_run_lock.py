"""One run owns a run folder at a time: a second training process into the same `--out` exits 2 naming the folder and
the process that holds it (stage 1, the spotter and the line reader alike), and the lock a killed run leaves behind is
taken over with a warning. Real processes of the installed command (the spotter's, the quickest to start)."""
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import one_line_error

COMMAND = 'train-spotter'
LONG = ['--points', 'gt', '--synth', 'tiny:8', '--val', '1', '--bs', '2', '--epochs', '1', '--epoch-len', '400']  # minutes of work


def start(out, *extra):
    exe = Path(sys.executable).parent / 'wecromcl'
    return subprocess.Popen([str(exe), COMMAND, *LONG, '--device', 'cpu', '--out', str(out), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def holder(lock: Path) -> int | None:
    try: return int(lock.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError): return None


def wait_for(lock: Path, proc, seconds: float = 120):
    "Until `proc` holds `lock`."
    t0 = time.time()
    while holder(lock) != proc.pid:
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() - t0 < seconds, f'{proc.args[1]} never took {lock}'
        time.sleep(0.2)


def test_every_trainer_holds_its_folder():
    "One decorator holds the folder for the three training commands; the process test below runs one of them."
    from wecromcl.train import train
    from wecromcl.pipeline import train_spotter
    from wecromcl.line_reader import pretrain_reader
    from wecromcl.core import holds_run_folder
    wrapper = holds_run_folder(lambda out: None).__code__  # what the decorator makes of a function
    assert all(f.__code__ is wrapper for f in (train, train_spotter, pretrain_reader))


def test_second_run_refused_and_dead_lock_taken_over(wecromcl, tmp_path):
    out = tmp_path / 'run'
    first = start(out)
    try:
        wait_for(out / '.lock', first)
        second = wecromcl(COMMAND, *LONG, '--device', 'cpu', '--out', out, '--overwrite')
        one_line_error(second, str(out), 'in use by another run', f'process {first.pid}')
    finally:
        first.send_signal(signal.SIGKILL); first.wait()
    assert (out / '.lock').exists()  # a killed process cannot remove it
    third = start(out, '--overwrite')
    try:
        wait_for(out / '.lock', third)
    finally:
        third.send_signal(signal.SIGINT); third.wait(timeout=120)
    assert f'taking over the lock of process {first.pid}' in third.stderr.read()
    assert not (out / '.lock').exists()  # released at exit


def test_refused_arguments_leave_no_folder(wecromcl, tmp_path):
    r = wecromcl('train', '--synth', 'nonsense', '--steps', '1', '--out', tmp_path / 'run')
    assert r.returncode == 2 and not (tmp_path / 'run').exists(), r.stderr
