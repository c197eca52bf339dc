"""The collapse regression: a few dozen steps of the `tiny` recipe (or of the uniformity term alone) keep the text
features apart; with neither, they collapse and the probe says so."""
import contextlib, io
import pytest
import torch
from wecromcl.learner import TrainConfig, stage1_dls, stage1_learner, fit_stage1
from wecromcl.metric import COLLAPSE_COS
from wecromcl.synth import SynthDataset, SynthConfig, synth_eval_samples

STEPS = 32  # the uncured recipe collapses within 2-32 steps


def _run(cfg: TrainConfig):
    "Train the tiny model with `cfg` for STEPS steps (2 epochs) through the real Learner; the probe's last row."
    torch.manual_seed(0)
    source = SynthDataset(SynthConfig.preset(cfg.synth), seed=0, n=10**6)
    probe_images = synth_eval_samples(8, 10_000, cfg.synth)
    learn = stage1_learner(stage1_dls(source, probe_images, cfg, n_valid=1), cfg=cfg, anchor_samples=probe_images)
    with learn.no_bar(), contextlib.redirect_stdout(io.StringIO()) as log:
        fit_stage1(learn, 2)
    names = learn.recorder.metric_names[1:-1]
    return dict(zip(names, learn.recorder.values[-1])), learn.collapse_probe.collapsed_epochs, log.getvalue()


@pytest.fixture(scope='module')
def tiny_recipe(): return TrainConfig.preset('tiny', epoch_len=STEPS // 2)


def test_tiny_recipe_does_not_collapse(tiny_recipe):
    row, collapsed, log = _run(tiny_recipe)
    assert row['text_cos'] < 0.8 and collapsed == 0, row
    assert 'collapse' not in log


def test_uniformity_alone_keeps_the_words_apart(tiny_recipe):
    row, collapsed, _ = _run(tiny_recipe.replace(text_freeze=0., text_uniformity=1.))
    assert row['text_cos'] < 0.8 and collapsed == 0, row


def test_without_the_levers_the_probe_flags_collapse(tiny_recipe):
    row, collapsed, log = _run(tiny_recipe.replace(text_freeze=0., text_uniformity=0.))
    assert row['text_cos'] >= COLLAPSE_COS and collapsed >= 1, row
    assert 'collapse: the text features of the probe words' in log
