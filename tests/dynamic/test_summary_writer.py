"""flowgraph.dynamic.utils.tensorboard.SummaryWriter: PyTorch's spelling over the same writer."""

import io

import numpy as np
import pytest

import flowgraph.dynamic as torch

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

from flowgraph.dynamic.utils.tensorboard import SummaryWriter  # noqa: E402


def reload(logdir):
    acc = ea.EventAccumulator(str(logdir), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0})
    acc.Reload()
    return acc


def test_a_training_loop_logs_scalars_histograms_images_and_text(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    losses = []
    with SummaryWriter(tmp_path) as writer:
        for step in range(5):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            writer.add_scalar("train/loss", loss, step)
            writer.add_scalars("lr", {"main": 0.1}, step)
            writer.add_histogram("weight", model.weight, step)
        writer.add_histogram("edges", np.array([0.0, 0.5, 1.0, 1.5]), 0, bins=3)
        writer.add_image("pic", np.full((1, 2, 3), 0.5), 0)
        writer.add_image("hwc", np.zeros((2, 3, 3), np.uint8), 0, dataformats="HWC")
        writer.add_text("note", "hello", 0)
    acc = reload(tmp_path)
    got = [e.value for e in acc.Scalars("train/loss")]
    np.testing.assert_allclose(got, losses, rtol=1e-6)
    assert [e.step for e in acc.Scalars("lr/main")] == list(range(5))
    last = acc.Histograms("weight")[-1].histogram_value
    assert last.num == 3 and last.max == pytest.approx(float(model.weight.detach().numpy().max()))
    edges = acc.Histograms("edges")[0].histogram_value
    assert list(edges.bucket_limit) == [0.5, 1.0, 1.5] and list(edges.bucket) == [1, 1, 2]
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(acc.Images("pic")[0].encoded_image_string), format="png")
    assert pixels.shape == (2, 3) and np.all(np.round(pixels * 255) == 127)
    assert acc.Images("hwc")[0].width == 3
    assert acc.Tensors("note")[0].tensor_proto.string_val == [b"hello"]


def test_add_graph_writes_the_forward_pass(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, torch.randn(5, 3))
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    ops = [n.op for n in acc.Graph().node]
    assert ops.count("MatMul") == 2 and "Relu" in ops
    relu = next(n for n in acc.Graph().node if n.op == "Relu")
    assert [d.size for d in relu.attr["_output_shapes"].list.shape[0].dim] == [5, 4]


def test_bad_values_name_the_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="add_scalar\\('loss'\\).*\\[2\\]"):
            writer.add_scalar("loss", torch.tensor([1.0, 2.0]), 0)
        with pytest.raises(ValueError, match="Nan in summary histogram for: w"):
            writer.add_histogram("w", np.array([np.nan]), 0)
        with pytest.raises(ValueError, match="add_image\\('im'\\)"):
            writer.add_image("im", np.zeros((2, 2, 2, 2)), 0)
    with pytest.raises(RuntimeError, match="closed"):
        writer.add_scalar("loss", 1.0, 1)


def test_default_log_dir_is_runs_date_host(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as writer:
        assert writer.get_logdir().startswith("runs") and writer.get_logdir().endswith("_lr0.1")
