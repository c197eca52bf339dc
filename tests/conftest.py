"""Shared fixtures of the test suite."""
import subprocess, sys
from pathlib import Path
import pytest


@pytest.fixture
def wecromcl():
    "Run the installed `wecromcl` command as a user does (a subprocess): `wecromcl('info', '--json', p)`."
    exe = Path(sys.executable).parent / 'wecromcl'  # the console script of the environment running the tests
    return lambda *args: subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)


def one_line_error(r, *needles):
    "A user's mistake: exit status 2 and one line on stderr, no traceback, naming each of `needles`."
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and r.stderr.count('\n') == 1, r.stderr
    assert all(n in r.stderr for n in needles), r.stderr
