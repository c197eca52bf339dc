"""Shared fixtures of the test suite."""
import os, socket, subprocess, sys
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


def free_port() -> int:
    "A free local TCP port for a test's process group."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def init_gloo(rank: int, world: int, port: int):
    "Join a `world`-process CPU (gloo) group on this machine as `rank`, one thread each, as `torchrun` would set it up."
    import torch, torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
