"""The spotter under `run.distrib_ctx` (fastai's DDP), as stage 1 trains: two CPU processes (gloo) each draw their own
batches, and since DDP averages the gradients they end with the same weights, which moved."""
from pathlib import Path
import torch
import torch.multiprocessing as mp
from conftest import free_port, init_gloo


def _worker(rank, world, port, out):
    init_gloo(rank, world, port)
    import torch.distributed as dist
    from wecromcl.run import distrib_ctx
    from wecromcl.spotter import Spotter, SpotterConfig
    from wecromcl.spotter_learner import PointDataset, SpotterTrainConfig, fit_spotter, spotter_dls, spotter_learner
    from wecromcl.synth import SynthConfig, SynthDataset
    cfg = SpotterTrainConfig.preset('tiny', bs=2, epoch_len=4, accum=2)   # SPTS's step: accumulated, then averaged
    torch.manual_seed(0)
    learn = spotter_learner(spotter_dls(PointDataset(SynthDataset(SynthConfig.preset('tiny'), seed=0, n=12)), cfg=cfg),
                            Spotter(SpotterConfig.preset('tiny').replace(norm='frozen_bn')), cfg)
    seen = []
    orig = learn.dls.train.create_item
    learn.dls.train.create_item = lambda k: (seen.append(k), orig(k))[1]
    with distrib_ctx(learn), learn.no_bar(), learn.no_logging():
        fit_spotter(learn, 1)
    torch.save(dict(model=learn.model.state_dict(), seen=seen), Path(out) / f'rank{rank}.pt')
    dist.destroy_process_group()


def test_two_processes_train_one_spotter(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in (0, 1))
    assert len(r0['seen']) == len(r1['seen']) == 2 and not set(r0['seen']) & set(r1['seen'])  # batches shared out
    for k, v in r0['model'].items(): torch.testing.assert_close(v, r1['model'][k])
    from wecromcl.spotter import Spotter, SpotterConfig
    torch.manual_seed(0)
    fresh = Spotter(SpotterConfig.preset('tiny').replace(norm='frozen_bn')).state_dict()
    assert any(not torch.equal(fresh[k], r0['model'][k]) for k in fresh)  # and they did train
