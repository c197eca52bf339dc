"""Group 6 of the reliability issue: a user's mistake is one line naming the file or the option, exit status 2, no
traceback; each case runs the installed command on real files."""
import pytest, torch
from conftest import one_line_error

TRAIN = ['train', '--synth', 'small:8', '--val', '0', '--bs', '2', '--size', '64', '--steps', '1', '--device', 'cpu']


@pytest.fixture(scope='module')
def annotated(tmp_path_factory):
    d = tmp_path_factory.mktemp('ann')
    (d / 'ann.json').write_text('{}')
    return d


@pytest.mark.parametrize('content', [b'', b'PK\x03\x04 truncated', bytes(range(256)) * 8, b'epoch,loss\n'],
                         ids=['empty', 'truncated', 'random', 'text'])
def test_unreadable_checkpoint(wecromcl, annotated, tmp_path, content):
    (tmp_path / 'w.pth').write_bytes(content)
    r = wecromcl('locate', '--ckpt', tmp_path / 'w.pth', '--ann', annotated / 'ann.json', '--img-root', annotated)
    one_line_error(r, 'w.pth')


@pytest.mark.parametrize('where', ['file', 'under_file', 'proc'])
def test_unwritable_out(wecromcl, annotated, tmp_path, where):
    (tmp_path / 'f').write_text('x')
    out = {'file': tmp_path / 'f', 'under_file': tmp_path / 'f' / 'r.json', 'proc': '/proc/wecromcl/r.json'}[where]
    if where == 'file': (tmp_path / 'f').unlink(); (tmp_path / 'f').mkdir()  # --out names a folder
    r = wecromcl('locate', '--ann', annotated / 'ann.json', '--img-root', annotated, '--out', out)
    one_line_error(r, '--out')


@pytest.mark.parametrize('option, value, says', [('--steps', '0', 'at least 1'), ('--minutes', '-1', 'positive'),
                                                 ('--size', '17', 'multiple of 32'), ('--bs', '0', 'at least 1')])
def test_bad_numbers(wecromcl, tmp_path, option, value, says):
    args = [a for a in TRAIN if a not in ('--steps', '1')] if option in ('--steps', '--minutes') else list(TRAIN)
    if option in args: i = args.index(option); args[i + 1] = value
    else: args += [option, value]
    one_line_error(wecromcl(*args, '--out', tmp_path / 'run'), f'{option} {value}', says)
    assert not (tmp_path / 'run').exists()  # refused before anything was written


@pytest.mark.parametrize('value, says', [('0', 'at least 1'), ('3', 'epoch_len (10)')])
def test_bad_accum(wecromcl, tmp_path, value, says):
    "Accumulation is a whole number of batches a step, and an epoch (a checkpoint) ends on a step."
    r = wecromcl('train-spotter', '--points', 'gt', '--synth', 'tiny:8', '--accum', value, '--epochs', '1', '--out', tmp_path / 'run')
    one_line_error(r, f'accum {value}', says)
    assert not (tmp_path / 'run' / 'checkpoint.pth').exists()


@pytest.mark.parametrize('value', ['2', '-0.1', 'nan'])
def test_bad_min_score(wecromcl, tmp_path, value):
    "A spotter's score is a mean token probability: a threshold outside [0, 1] would keep everything or nothing."
    one_line_error(wecromcl('spot', tmp_path, '--ckpt', tmp_path / 'none.pth', '--min-score', value), '--min-score', 'between 0 and 1')


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is visible')
def test_cuda_without_gpu(wecromcl, tmp_path):
    args = [a if a != 'cpu' else 'cuda' for a in TRAIN]
    one_line_error(wecromcl(*args, '--out', tmp_path / 'run'), '--device cuda', 'no such CUDA device')


def test_not_a_device(wecromcl, tmp_path):
    one_line_error(wecromcl('bench', 'model', '--device', 'gpu', '--json', tmp_path / 'm.json'), '--device gpu')


def test_malformed_yaml(wecromcl, tmp_path):
    (tmp_path / 'c.yaml').write_text('model: [unclosed\n')
    one_line_error(wecromcl(*TRAIN, '--config', tmp_path / 'c.yaml', '--out', tmp_path / 'run'), 'c.yaml', 'YAML')


def test_bad_choice_is_argparse_usage(wecromcl, tmp_path):
    r = wecromcl('train', '--preset', 'huge', '--out', tmp_path / 'run')
    assert r.returncode == 2 and "invalid choice: 'huge'" in r.stderr and 'Traceback' not in r.stderr


class _Payload:
    def __reduce__(self): return (print, ('unpickled',))


@pytest.mark.parametrize('kind', ['missing', 'resnet18', 'wider_stage1', 'pickled'])
def test_bad_backbone_init(wecromcl, tmp_path, kind):
    "`train --backbone-init`: a missing file, weights of another architecture, a pickled payload."
    from wecromcl.checkpoint import save_model
    from wecromcl.image_encoder import ImageEncoderConfig
    from wecromcl.model import WeCromCL, WeCromCLConfig
    f = tmp_path / 'b.pth'
    if kind == 'resnet18':
        import torchvision
        torch.save(torchvision.models.resnet18().state_dict(), f)
    elif kind == 'wider_stage1':
        save_model(WeCromCL(WeCromCLConfig.preset('tiny', image=ImageEncoderConfig.preset('tiny', fpn_dim=32))), f)
    elif kind == 'pickled': torch.save({'model': _Payload()}, f)
    says = {'missing': 'checkpoint not found', 'resnet18': 'not a ResNet matching this backbone',
            'wider_stage1': 'its image side does not fit this model: repeated_bifpn', 'pickled': 'refused'}[kind]
    r = wecromcl(*TRAIN, '--backbone-init', f, '--out', tmp_path / 'run')
    one_line_error(r, 'b.pth', says)
    assert 'unpickled' not in r.stdout


@pytest.mark.parametrize('yaml_text, says', [('a: &x [*x]\n', 'aliases'), ('_base_: c.yaml\nmodel: {}\n', '_base_ chain'),
                                             ('trainer: 5\n', 'trainer must be a mapping'),
                                             ('model:\n  embed_dim: -3\n', 'model.embed_dim -3')],
                         ids=['recursive-alias', 'base-loop', 'trainer-not-a-mapping', 'negative-width'])
def test_bad_yaml_config(wecromcl, tmp_path, yaml_text, says):
    (tmp_path / 'c.yaml').write_text(yaml_text)
    one_line_error(wecromcl(*TRAIN, '--config', tmp_path / 'c.yaml', '--out', tmp_path / 'run'), 'c.yaml', says)


def test_deeply_nested_json(wecromcl, tmp_path):
    (tmp_path / 'deep.json').write_text('{"a": ' + '[' * 100_000 + ']' * 100_000 + '}')
    one_line_error(wecromcl('eval-anchors', '--result', tmp_path / 'deep.json', '--gts', tmp_path / 'deep.json',
                            '--json', tmp_path / 'o.json'), 'deep.json', 'nested too deeply')


@pytest.mark.parametrize('digits, says', [(400, 'two finite numbers'), (5000, 'not valid JSON')])
def test_huge_json_number(wecromcl, tmp_path, digits, says):
    "A number no float holds is refused as a point (400 digits), or as JSON itself (past Python's 4,300 digits)."
    (tmp_path / 'r.json').write_text('{"a.jpg": {"text": ["x"], "points": [[1' + '0' * digits + ', 1]], "scores": [1]}}')
    (tmp_path / 'g.json').write_text('{"a.jpg": {"text": ["x"], "points": [[1, 1]]}}')
    one_line_error(wecromcl('eval-anchors', '--result', tmp_path / 'r.json', '--gts', tmp_path / 'g.json'), 'r.json', says)


def test_nan_threshold(wecromcl, tmp_path):
    (tmp_path / 'r.json').write_text('{}')
    one_line_error(wecromcl('eval-e2e', '--result', tmp_path / 'r.json', '--gts', tmp_path / 'r.json', '--thresholds', 'nan'),
                   '--thresholds nan')


def test_reader_labels_without_a_usable_word(wecromcl, tmp_path):
    import json, cv2, numpy as np
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((32, 48, 3), np.uint8))
    (tmp_path / 'gts.json').write_text(json.dumps({'a.png': {'text': ['###'], 'points': [[2, 2]], 'polygons': [[[0, 0], [9, 0], [9, 5], [0, 5]]]}}))
    r = wecromcl('pretrain-reader', '--labels', tmp_path / 'gts.json', '--img-root', tmp_path, '--out', tmp_path / 'run')
    one_line_error(r, 'gts.json', 'no word the reader can learn from')
    assert not (tmp_path / 'run' / 'body.pth').exists()


def test_resume_refuses_another_rate(wecromcl, tmp_path):
    "`train --resume` continues the run as it began: a setting given again with another value is named, not ignored."
    assert wecromcl(*TRAIN, '--out', tmp_path / 'run').returncode == 0
    one_line_error(wecromcl('train', '--out', tmp_path / 'run', '--resume', '--lr', '0.5'), '--lr 0.5', 'began with')
