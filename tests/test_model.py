"""The stage-1 model through the installed `wecromcl` command: the speed benchmark on a tiny input."""
import json


def test_bench_model_tiny(wecromcl, tmp_path):
    out = tmp_path / 'model.json'
    r = wecromcl('bench', 'model', '--presets', 'tiny', '--side', '64', '--bs', '2', '--repeats', '1', '--json', out)
    assert r.returncode == 0, r.stderr
    rep = json.loads(out.read_text())
    (row,) = rep['results']
    assert row['preset'] == 'tiny' and 0 < row['params'] < 5_000_000
    assert row['forward_s'] > 0 and row['forward_backward_s'] > 0
    assert 'tiny' in r.stdout and 'wrote' in r.stdout


def test_bench_model_bad_preset(wecromcl, tmp_path):
    r = wecromcl('bench', 'model', '--presets', 'huge', '--json', tmp_path / 'm.json')
    assert r.returncode != 0 and 'huge' in (r.stderr + r.stdout)
