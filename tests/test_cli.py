"""The installed `wecromcl` command, run as a user runs it (a subprocess)."""
import json, subprocess, sys
from pathlib import Path

WECROMCL = Path(sys.executable).parent / 'wecromcl'  # the console script of the environment running the tests


def run(*args):
    return subprocess.run([str(WECROMCL), *args], capture_output=True, text=True)


def test_info_writes_json(tmp_path):
    r = run('info', '--json', str(tmp_path / 'info.json'))
    assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / 'info.json').read_text())
    assert info['torch'].startswith('2.') and 'reference' in info['op_backends']


def test_unknown_command_fails():
    r = run('frobnicate')
    assert r.returncode == 2 and 'unknown command' in r.stderr
