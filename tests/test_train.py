"End-to-end checks of `wecromcl train` and of data-parallel training on CPU (2 gloo processes)."
import contextlib, io, json
from pathlib import Path
import pytest
import torch
import torch.multiprocessing as mp
from wecromcl.cli import main
from conftest import free_port, init_gloo


def _train_args(out, *extra):
    return ['train', '--out', str(out), '--synth', 'small:40', '--val', '0', '--bs', '4', '--size', '64',
            '--epoch-len', '1', '--quiet', *extra]


def test_train_cli_and_resume(tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(_train_args(tmp_path/'a', '--steps', '2')) == 0
    s = json.loads((tmp_path/'a'/'summary.json').read_text())
    assert s['steps'] == 2 and s['epochs'] == 2
    ck = torch.load(tmp_path/'a'/'checkpoint.pth', weights_only=True)
    assert ck['format'] == 'wecromcl-stage1' and ck['epoch'] == 2 and set(ck) >= {'config', 'model', 'optimizer', 'rng'}
    with contextlib.redirect_stdout(io.StringIO()) as out:  # resuming a finished run does nothing and says so
        assert main(['train', '--out', str(tmp_path/'a'), '--resume', '--quiet']) == 0
    assert 'already complete' in out.getvalue()


def test_train_cli_bad_input(tmp_path):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(['train', '--out', str(tmp_path), '--synth', 'small']) == 2  # neither --minutes nor --steps
        assert main(['train', '--out', str(tmp_path), '--resume']) == 2          # nothing to resume
        assert main(['train', '--out', str(tmp_path), '--synth', 'small:x', '--steps', '1']) == 2
    assert '--minutes' in err.getvalue() and 'no checkpoint.pth' in err.getvalue()


def _worker(rank, world, port, out):
    init_gloo(rank, world, port)
    import torch.distributed as dist
    from wecromcl.synth import SynthDataset, SynthConfig
    from wecromcl.learner import TrainConfig, stage1_dls, stage1_learner, fit_stage1
    from wecromcl.train import stage1_distrib_ctx
    cfg = TrainConfig.preset('tiny', size=64, bs=2, n_neg=2, epoch_len=4, optimizer='sgd', schedule='poly', lr=0.05)
    source = SynthDataset(SynthConfig.preset('tiny'), seed=0, n=30)
    learn = stage1_learner(stage1_dls(source, None, cfg, workers=0), cfg=cfg)  # batches drawn here, where `seen` is
    seen = []
    orig = learn.dls.train.create_batch
    learn.dls.train.create_batch = lambda d: (seen.append(d['positives']), orig(d))[1]
    with stage1_distrib_ctx(learn), learn.no_bar(), learn.no_logging():
        fit_stage1(learn, 1)
    torch.save(dict(model=learn.model.state_dict(), seen=seen), Path(out)/f'rank{rank}.pt')
    dist.destroy_process_group()


def test_two_processes_agree(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path/f'rank{r}.pt', weights_only=True) for r in (0, 1))
    assert len(r0['seen']) == len(r1['seen']) == 2 and r0['seen'] != r1['seen']  # each rank drew its own share
    for k, v in r0['model'].items(): torch.testing.assert_close(v, r1['model'][k])
    init = __import__('wecromcl.model', fromlist=['x'])
    torch.manual_seed(0)
    fresh = init.WeCromCL(init.WeCromCLConfig.preset('tiny')).state_dict()
    assert any(not torch.equal(fresh[k], r0['model'][k]) for k in fresh)  # and they did train
