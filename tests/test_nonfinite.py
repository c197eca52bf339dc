"""Non-finite values stop where they enter: a diverging training loss ends the run naming its step, before any weight or
checkpoint holds it (stage 1, the spotter, the line reader); a NaN polygon coordinate is refused where labels are read;
a checkpoint with NaN weights is refused where it is loaded. Each case runs the installed command on real files."""
import json
import cv2, numpy as np, pytest, torch
from conftest import one_line_error

DIVERGE = ['--lr', '1e30', '--device', 'cpu']  # Adam's first step moves every weight by about the rate: the loss overflows
SMALL = {'train': ['--synth', 'small:8', '--val', '0', '--bs', '2', '--size', '64', '--steps', '3'],
         'train-spotter': ['--points', 'gt', '--synth', 'tiny:8', '--val', '1', '--bs', '2', '--epochs', '1', '--epoch-len', '3'],
         'pretrain-reader': ['--synth', 'tiny:8', '--val', '1', '--epochs', '1', '--epoch-len', '3']}


@pytest.mark.parametrize('command', SMALL)
def test_diverging_run_stops(wecromcl, tmp_path, command):
    out = tmp_path / 'run'
    r = wecromcl(command, *SMALL[command], *DIVERGE, '--out', out)
    one_line_error(r, 'training loss is', 'step')
    assert not [p for p in out.glob('*.pth')], 'nothing trained past a non-finite loss may be written'


def test_nan_polygon_refused(wecromcl, tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), np.full((64, 96, 3), 200, np.uint8))
    gts = {'a.png': {'text': ['shop'], 'points': [[20.0, 20.0]], 'polygons': [[[10, 10], [float('nan'), 10], [40, 30], [10, 30]]]}}
    (tmp_path / 'gts.json').write_text(json.dumps(gts))  # Python writes NaN, and JSON readers accept it
    r = wecromcl('pretrain-reader', '--labels', tmp_path / 'gts.json', '--img-root', tmp_path, '--out', tmp_path / 'run')
    one_line_error(r, 'gts.json', "'a.png'", 'polygon')


def test_nan_checkpoint_refused(wecromcl, tmp_path):
    from wecromcl.checkpoint import load_model, save_model
    model = load_model()
    with torch.no_grad(): next(model.parameters())[0].fill_(float('nan'))
    save_model(model, tmp_path / 'nan.pth')
    cv2.imwrite(str(tmp_path / 'a.png'), np.full((64, 96, 3), 200, np.uint8))
    r = wecromcl('locate', tmp_path / 'a.png', '--words', 'shop', '--ckpt', tmp_path / 'nan.pth')
    one_line_error(r, 'nan.pth', 'NaN')
