"""Shared fixtures of the test suite."""
import subprocess, sys
from pathlib import Path
import pytest


@pytest.fixture
def wecromcl():
    "Run the installed `wecromcl` command as a user does (a subprocess): `wecromcl('info', '--json', p)`."
    exe = Path(sys.executable).parent / 'wecromcl'  # the console script of the environment running the tests
    return lambda *args: subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
