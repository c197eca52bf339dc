"The shipped `tiny` weights (data/weights/tiny.pth) load and localize words of freshly generated images."
from wecromcl.metric import COLLAPSE_COS, evaluate_model
from wecromcl.checkpoint import load_model
from wecromcl.synth import synth_eval_samples

FRESH_SEED = 20_000  # neither the training stream (0) nor the held-out set of the metrics (10000)


def test_shipped_weights_localize_fresh_images():
    model = load_model()
    m = evaluate_model(model, synth_eval_samples(40, FRESH_SEED, 'small'), max_side=160)
    assert m['point_in_polygon'] > 2 * m['point_in_polygon_random'], m
    assert m['text_cos'] < COLLAPSE_COS, m


def test_shipped_spotter_reads_fresh_images():
    "The shipped spotter (data/weights/spotter.pth) loads and reads words of images the generator draws afresh."
    from collections import Counter
    from wecromcl.spot import spot_images
    from wecromcl.spotter import load_spotter
    samples = synth_eval_samples(8, FRESH_SEED, 'small')
    reads = spot_images(load_spotter(), [s.image for s in samples])
    words = sum(len(s.words) for s in samples)
    right = sum((Counter(w.text for w in s.words) & Counter(r.text for r in read)).total() for s, read in zip(samples, reads))
    assert right >= words // 4, (right, words, [[r.text for r in read] for read in reads])
