"""`wecromcl bench op`, run as a user runs it (a subprocess), on the tiny shape only."""
import json

import pytest


def _has_op():
    from wecromcl.msda import OP_DEVICES
    return 'cpu' in OP_DEVICES


@pytest.mark.skipif(not _has_op(), reason='wecromcl._C is not built: no compiled op to benchmark')
def test_bench_op_tiny_writes_json(wecromcl, tmp_path):
    out = tmp_path / 'bench.json'
    r = wecromcl('bench', 'op', '--shapes', 'tiny', '--repeats', '1', '--json', str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert [(row['impl'], row['shape'], row['device'], row['dtype']) for row in res['rows']] == \
        [('ours', 'tiny', 'cpu', 'fp32'), ('reference', 'tiny', 'cpu', 'fp32')]
    for row in res['rows']:
        assert row['fwd_ms'] > 0 and row['fwdbwd_ms'] > 0 and row['max_abs_err'] < 1e-4
    assert 'cpu' in res['machine'] and 'speed-up' in r.stdout


def test_bench_op_bad_dtype_fails(wecromcl):
    r = wecromcl('bench', 'op', '--dtypes', 'fp16')
    assert r.returncode == 2 and ('no cpu kernel for fp16' in r.stderr or 'no cpu kernel here' in r.stderr)
