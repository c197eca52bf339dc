"""The installed `wecromcl` command, run as a user runs it (a subprocess)."""
import json


def test_info_writes_json(wecromcl, tmp_path):
    r = wecromcl('info', '--json', str(tmp_path / 'info.json'))
    assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / 'info.json').read_text())
    assert info['torch'].startswith('2.') and 'reference' in info['op_backends']


def test_unknown_command_fails(wecromcl):
    r = wecromcl('frobnicate')
    assert r.returncode == 2 and 'unknown command' in r.stderr
