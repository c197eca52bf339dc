"""One run owns a run folder at a time: a second training process into the same `--out` exits 2 naming the folder and
the process that holds it (stage 1, the spotter and the line reader alike), and the lock a killed run leaves behind is
taken over with a warning. Real processes of the installed command."""
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import one_line_error

LONG = {'train': ['--data', 'synth:8', '--val', '0', '--bs', '2', '--size', '64', '--steps', '400'],
        'train-spotter': ['--points', 'gt', '--synth', 'tiny:8', '--val', '1', '--bs', '2', '--epochs', '1', '--epoch-len', '400'],
        'pretrain-reader': ['--synth', 'tiny:8', '--val', '1', '--epochs', '1', '--epoch-len', '400']}


def start(command, out, *extra):
    exe = Path(sys.executable).parent / 'wecromcl'
    return subprocess.Popen([str(exe), command, *LONG[command], '--device', 'cpu', '--out', str(out), *extra],
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


@pytest.mark.parametrize('command', LONG)
def test_second_run_refused_and_dead_lock_taken_over(wecromcl, tmp_path, command):
    out = tmp_path / 'run'
    first = start(command, out)
    try:
        wait_for(out / '.lock', first)
        second = wecromcl(command, *LONG[command], '--device', 'cpu', '--out', out, '--overwrite')
        one_line_error(second, str(out), 'in use by another run', f'process {first.pid}')
    finally:
        first.send_signal(signal.SIGKILL); first.wait()
    assert (out / '.lock').exists()  # a killed process cannot remove it
    third = start(command, out, '--overwrite')
    try:
        wait_for(out / '.lock', third)
    finally:
        third.send_signal(signal.SIGINT); third.wait(timeout=120)
    assert f'taking over the lock of process {first.pid}' in third.stderr.read()
    assert not (out / '.lock').exists()  # released at exit


def test_refused_arguments_leave_no_folder(wecromcl, tmp_path):
    r = wecromcl('train', '--data', 'nonsense', '--steps', '1', '--out', tmp_path / 'run')
    assert r.returncode == 2 and not (tmp_path / 'run').exists(), r.stderr
