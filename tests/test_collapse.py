"""The collapse regression: a few dozen steps of the `tiny` recipe, whose text tower trains after a short freeze, keep the
text features apart (judged from the tower's own start); so does the uniformity term alone; with neither, they collapse
and the probe says so."""
import contextlib, io
import pytest
import torch
from wecromcl.learner import TrainConfig, stage1_dls, stage1_learner, fit_stage1
from wecromcl.metric import COLLAPSE_KEEP
from wecromcl.synth import SynthDataset, SynthConfig, synth_eval_samples

STEPS = 32  # the uncured recipe collapses within 2-32 steps
RECIPE_DRIFT = 0.15  # the recipe's bar: probe cosine never more than this above its start


def _run(cfg: TrainConfig):
    "Train the tiny model with `cfg` for STEPS steps (2 epochs) through the real Learner: the probe's rows, start, log."
    torch.manual_seed(0)
    source = SynthDataset(SynthConfig.preset(cfg.synth), seed=0, n=10**6)
    probe_images = synth_eval_samples(8, 10_000, cfg.synth)
    learn = stage1_learner(stage1_dls(source, probe_images, cfg, n_valid=1), cfg=cfg, anchor_samples=probe_images)
    before = [p.detach().clone() for p in learn.model.text_parameters()]
    with learn.no_bar(), contextlib.redirect_stdout(io.StringIO()) as log:
        fit_stage1(learn, 2)
    names = learn.recorder.metric_names[1:-1]
    rows = [dict(zip(names, v)) for v in learn.recorder.values]
    trained = not all(torch.equal(a, b) for a, b in zip(before, learn.model.text_parameters()))
    return dict(rows=rows, start=learn.collapse_probe.start, collapsed=learn.collapse_probe.collapsed_epochs,
                log=log.getvalue(), trained=trained)


@pytest.fixture(scope='module')
def tiny_recipe(): return TrainConfig.preset('tiny', epoch_len=STEPS // 2)


def test_tiny_recipe_trains_its_text_tower_without_collapse(tiny_recipe):
    assert tiny_recipe.text_freeze < 1, 'the recipe keeps its text tower frozen: this test could not fail'
    r = _run(tiny_recipe)
    assert r['trained'], 'the text tower did not change'
    assert r['collapsed'] == 0 and 'collapse' not in r['log'], r
    for row in r['rows']:
        assert row['text_cos'] <= r['start'] + RECIPE_DRIFT and row['text_kept'] >= COLLAPSE_KEEP, (r['start'], row)


def test_uniformity_alone_keeps_the_words_apart(tiny_recipe):
    r = _run(tiny_recipe.replace(text_freeze=0., text_lr=1., text_warmup=0., text_uniformity=1.))
    assert r['trained'] and r['collapsed'] == 0, r


def test_without_the_levers_the_probe_flags_collapse(tiny_recipe):
    r = _run(tiny_recipe.replace(text_freeze=0., text_lr=1., text_warmup=0., text_uniformity=0.))
    assert r['rows'][-1]['text_kept'] < COLLAPSE_KEEP and r['collapsed'] >= 1, r
    assert 'collapse: the text features of the probe words' in r['log']
