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


def test_version(wecromcl):
    import wecromcl as pkg
    r = wecromcl('--version')
    assert r.returncode == 0 and r.stdout.strip() == f'wecromcl {pkg.__version__}'


def test_help_is_fast_and_complete(wecromcl):
    "Help is read from the sources (no torch import): under 2 s a command, defaults shown, required options marked."
    import time
    from wecromcl.cli import COMMANDS
    t0 = time.perf_counter(); r = wecromcl('--help'); dt = time.perf_counter() - t0
    assert r.returncode == 0 and all(name in r.stdout for name in COMMANDS) and dt < 2, (dt, r.stderr)
    names = {l.split()[0] for l in r.stdout.splitlines() if l.startswith('  ') and not l.startswith('   ')}
    assert set(COMMANDS) <= names, 'a command name runs into its summary'
    for name in [n for n, t in COMMANDS.items() if not isinstance(t, dict)] + ['bench op', 'bench spotter']:
        t0 = time.perf_counter(); r = wecromcl(*name.split(), '--help'); dt = time.perf_counter() - t0
        assert r.returncode == 0 and r.stderr == '' and dt < 2, (name, dt, r.stderr)
    train = wecromcl('train', '--help').stdout
    assert 'required options:\n  --out OUT' in train and '(default: tiny)' in train and '{tiny,official}' in train
    assert 'required options:' in wecromcl('eval-anchors', '--help').stdout


def test_no_dependency_warnings(wecromcl, tmp_path):
    "fastai, torch and pandas warn at import on this stack; a user running a command sees none of it."
    r = wecromcl('train', '--synth', 'small:4', '--val', 0, '--bs', 2, '--size', 64, '--steps', 1, '--workers', 0,
                 '--out', tmp_path / 'run')
    assert r.returncode == 0 and 'Warning' not in r.stdout + r.stderr, r.stdout + r.stderr


def test_same_option_same_choices():
    """An option that several commands share has one meaning: the same hint (so the same choices) everywhere, and the
    options every kind of command has (device, loader processes, a JSON copy) the same default."""
    from collections import defaultdict
    from wecromcl.cli import COMMANDS, _unwrap, target_options
    def targets(table):
        for t in table.values(): yield from (targets(t) if isinstance(t, dict) else [t])
    spotter = {'wecromcl.pipeline:train_spotter', 'wecromcl.pipeline:bench_spotter', 'wecromcl.benchmarks:bench_spotter_curve',
               'wecromcl.spotter_isolation:bench_spotter_isolation'}  # their --preset names a spotter preset (tiny_c3 as well)
    hints, defaults = defaultdict(set), defaultdict(set)
    for t in targets(COMMANDS):
        for o in target_options(t)[1]:
            defaults[o.name].add(repr(o.default))
            if (t, o.name) != ('wecromcl.synth:synth', 'preset'):  # a generator preset there, a model preset elsewhere
                hints['spotter preset' if o.name == 'preset' and t in spotter else o.name].add(repr(_unwrap(o.hint)))
    for name in ('preset', 'spotter preset', 'dataset', 'device', 'ckpt', 'bs', 'n_eval', 'size', 'minutes', 'seed'):
        assert len(hints[name]) == 1, (name, hints[name])
    for name in ('device', 'workers', 'json'):
        assert len(defaults[name]) == 1, (name, defaults[name])
    assert not {'batch', 'n'} & set(hints)  # one spelling: --bs, --n-images / --n-eval
