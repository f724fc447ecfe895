"""nn and optim breadth: BatchNorm (train/eval, running statistics, momentum), pools, 2-D
dropout, activations, the binary and robust losses, Embedding, clip_grad_norm_ — against NumPy
references with float64 gradient checks — and RMSprop, Adagrad, Adadelta, AdamW and the
learning-rate schedulers step by step against the formulas in PyTorch's documentation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.nn.functional as F
from flowgraph.dynamic import optim
from flowgraph.dynamic.optim import lr_scheduler

from .gradcheck import check_grads, t64

RNG = np.random.default_rng(2)


# ---- layers and losses --------------------------------------------------------------------------


def test_batch_norm_training_eval_and_running_statistics():
    bn = nn.BatchNorm2d(3, momentum=0.2).to(torch.float64)
    x = RNG.standard_normal((4, 3, 2, 2)) * 2 + 1
    y = bn(t64(x)).detach().numpy()
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    expected = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-10)
    n = 4 * 2 * 2
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.8 * 0 + 0.2 * mean)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.8 * 1 + 0.2 * var * n / (n - 1))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    z = bn(t64(x)).detach().numpy()
    rm, rv = bn.running_mean.numpy(), bn.running_var.numpy()
    np.testing.assert_allclose(
        z, (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    )
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"}  # fmt: skip
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D"):
        bn(t64(np.ones((2, 3))))
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    check_grads(lambda v, g, h: F.batch_norm(v, None, None, g, h, training=True),
                RNG.standard_normal((5, 3)), w, b)  # fmt: skip


def test_pooling_and_dropout2d():
    x = RNG.standard_normal((2, 3, 5, 7))
    got = F.adaptive_avg_pool2d(t64(x), (2, 3)).numpy()
    COLUMNS = ((0, 3), (2, 5), (4, 7))  # noqa: N806
    # PyTorch's windows: rows [0, 3) and [2, 5); columns [0, 3), [2, 5), [4, 7).
    expected = np.stack([
        np.stack([x[..., r0:r1, c0:c1].mean(axis=(-2, -1)) for c0, c1 in COLUMNS], -1)
        for r0, r1 in ((0, 3), (2, 5))
    ], -2)  # fmt: skip
    np.testing.assert_allclose(got, expected)
    check_grads(lambda v: F.adaptive_avg_pool2d(v, 2), RNG.standard_normal((1, 2, 4, 5)))
    assert nn.AdaptiveAvgPool2d(1)(t64(x)).shape == (2, 3, 1, 1)
    assert nn.AvgPool2d(2)(t64(x)).shape == (2, 3, 2, 3)
    torch.manual_seed(0)
    drop = nn.Dropout2d(0.5)
    y = drop(torch.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels dropped
    drop.eval()
    assert drop(torch.ones(2, 2, 2, 2)).tolist() == torch.ones(2, 2, 2, 2).tolist()

    def seeded_dropout(v):  # the same channels dropped on every call
        torch.manual_seed(3)
        return F.dropout2d(v, 0.5)

    check_grads(seeded_dropout, RNG.standard_normal((2, 4, 2, 2)))


def test_activations():
    x = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(t64(x)).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(nn.Sigmoid()(t64(x)).numpy(), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(nn.Tanh()(t64(x)).numpy(), np.tanh(x))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(dim=1)(t64(x)).numpy(), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(t64(x)).numpy(),
                               np.log(e / e.sum(1, keepdims=True)))  # fmt: skip
    check_grads(lambda v: F.leaky_relu(v, 0.1), x + 0.05)


def test_binary_and_robust_losses():
    p = RNG.uniform(0.05, 0.95, (4, 3))
    z = RNG.standard_normal((4, 3))
    t = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.BCELoss()(t64(p), t64(t)).item(), bce.mean())
    np.testing.assert_allclose(
        F.binary_cross_entropy(t64(p), t64(t), reduction="sum").item(), bce.sum()
    )
    s = 1 / (1 + np.exp(-z))
    bce_logits = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss()(t64(z), t64(t)).item(), bce_logits.mean())
    pos = np.array([2.0, 1.0, 0.5])
    weighted = -(pos * t * np.log(s) + (1 - t) * np.log(1 - s))
    np.testing.assert_allclose(
        nn.BCEWithLogitsLoss(pos_weight=t64(pos))(t64(z), t64(t)).item(), weighted.mean()
    )
    d = np.abs(z - t)
    smooth = np.where(d < 0.5, 0.5 * d**2 / 0.5, d - 0.25)
    np.testing.assert_allclose(nn.SmoothL1Loss(beta=0.5)(t64(z), t64(t)).item(), smooth.mean())
    np.testing.assert_allclose(nn.L1Loss()(t64(z), t64(t)).item(), d.mean())
    log_probs = np.log(p / p.sum(1, keepdims=True))
    labels = np.array([0, 2, 1, 1])
    np.testing.assert_allclose(nn.NLLLoss()(t64(log_probs), torch.tensor(labels)).item(),
                               -log_probs[range(4), labels].mean())  # fmt: skip
    tt = t64(t)
    check_grads(lambda v: F.binary_cross_entropy(v, tt), p)
    check_grads(lambda v: F.binary_cross_entropy_with_logits(v, tt), z)
    check_grads(lambda v: F.smooth_l1_loss(v, tt), z)
    with pytest.raises(ValueError, match="target size"):
        nn.BCELoss()(t64(p), t64(t[:, :2]))


def test_embedding():
    emb = nn.Embedding(10, 3).to(torch.float64)
    ids = torch.tensor([[1, 4], [4, 9]])
    out = emb(ids)
    assert out.shape == (2, 2, 3)
    np.testing.assert_allclose(out.detach().numpy(), emb.weight.detach().numpy()[[[1, 4], [4, 9]]])
    out.sum().backward()
    counts = np.zeros(10)
    np.add.at(counts, [1, 4, 4, 9], 1)
    np.testing.assert_allclose(emb.weight.grad.numpy(), counts[:, None] * np.ones((1, 3)))
    with pytest.raises(RuntimeError, match="expected integer ids"):
        emb(torch.tensor([1.0]))
    padded = nn.Embedding(5, 2, padding_idx=0)
    assert padded.weight[0].tolist() == [0.0, 0.0]
    padded(torch.tensor([0, 3, 0])).sum().backward()
    assert padded.weight.grad[0].tolist() == [0.0, 0.0] and padded.weight.grad[3].tolist() == [1, 1]


def test_clip_grad_norm_uses_pytorchs_formula():
    a = torch.tensor([3.0, 0.0], requires_grad=True)
    b = torch.tensor([[4.0]], requires_grad=True)
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([[4.0]])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=2.0)
    assert math.isclose(total.item(), 5.0, rel_tol=1e-6)
    coef = 2.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(a.grad.numpy(), [3.0 * coef, 0.0], rtol=1e-6)
    total = nn.utils.clip_grad_norm_([a, b], max_norm=10.0)  # below max_norm: unchanged
    np.testing.assert_allclose(b.grad.numpy(), [[4.0 * coef]], rtol=1e-6)
    nn.utils.clip_grad_value_([a], 0.5)
    assert a.grad.max().item() == 0.5


# ---- optimizers against the documented update rules ---------------------------------------------

GRADS = [RNG.standard_normal(3) for _ in range(6)]
START = RNG.standard_normal(3)


def run_optimizer(make):
    p = torch.tensor(START.copy(), requires_grad=True)
    opt = make([p])
    for g in GRADS:
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


def ref_rmsprop(lr, alpha, eps, wd, momentum, centered):
    p, v, a, b = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            a = alpha * a + (1 - alpha) * g
            vt = v - a * a
        if momentum:
            b = momentum * b + g / (np.sqrt(vt) + eps)
            p = p - lr * b
        else:
            p = p - lr * g / (np.sqrt(vt) + eps)
    return p


def ref_adagrad(lr, lr_decay, wd, init, eps):
    p, s = START.copy(), np.full(3, init)
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


def ref_adadelta(lr, rho, eps, wd):
    p, v, u = START.copy(), np.zeros(3), np.zeros(3)
    for g in GRADS:
        g = g + wd * p
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        p = p - lr * dx
    return p


def ref_adamw(lr, b1, b2, eps, wd):
    p, m, v = START.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


@pytest.mark.parametrize(
    "make, reference",
    [
        (lambda ps: optim.RMSprop(ps, lr=0.01), lambda: ref_rmsprop(0.01, 0.99, 1e-8, 0, 0, False)),
        (lambda ps: optim.RMSprop(ps, lr=0.05, alpha=0.9, weight_decay=0.1, momentum=0.8,
                                  centered=True),
         lambda: ref_rmsprop(0.05, 0.9, 1e-8, 0.1, 0.8, True)),
        (lambda ps: optim.Adagrad(ps, lr=0.1), lambda: ref_adagrad(0.1, 0, 0, 0, 1e-10)),
        (lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.5, weight_decay=0.2,
                                  initial_accumulator_value=0.3),
         lambda: ref_adagrad(0.1, 0.5, 0.2, 0.3, 1e-10)),
        (lambda ps: optim.Adadelta(ps), lambda: ref_adadelta(1.0, 0.9, 1e-6, 0)),
        (lambda ps: optim.Adadelta(ps, lr=0.5, rho=0.8, weight_decay=0.1),
         lambda: ref_adadelta(0.5, 0.8, 1e-6, 0.1)),
        (lambda ps: optim.AdamW(ps, lr=0.01), lambda: ref_adamw(0.01, 0.9, 0.999, 1e-8, 1e-2)),
        (lambda ps: optim.AdamW(ps, lr=0.1, betas=(0.8, 0.9), weight_decay=0.5),
         lambda: ref_adamw(0.1, 0.8, 0.9, 1e-8, 0.5)),
    ],
)  # fmt: skip
def test_optimizer_follows_documented_update(make, reference):
    np.testing.assert_allclose(run_optimizer(make), reference(), rtol=1e-10, atol=1e-12)


def test_optimizer_state_dict_round_trip():
    p = torch.tensor(START.copy(), requires_grad=True)
    opt = optim.RMSprop([p], lr=0.01, momentum=0.5)
    p.grad = torch.tensor(GRADS[0])
    opt.step()
    state = opt.state_dict()
    q = torch.tensor(p.detach().numpy().copy(), requires_grad=True)
    opt2 = optim.RMSprop([q], lr=0.5, momentum=0.5)
    opt2.load_state_dict(state)
    assert opt2.param_groups[0]["lr"] == 0.01
    for o, w in ((opt, p), (opt2, q)):
        w.grad = torch.tensor(GRADS[1])
        o.step()
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([q, torch.zeros(1, requires_grad=True)], lr=1).load_state_dict(state)


def test_step_before_backward_is_detected():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = torch.ones(2)
    loss = (w * w).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


# ---- learning-rate schedules --------------------------------------------------------------------


def lrs(make_scheduler, epochs=8, lr=1.0):
    opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_schedulers_follow_closed_forms():
    assert lrs(lambda o: lr_scheduler.StepLR(o, 3, gamma=0.5)) == [
        0.5 ** (e // 3) for e in range(8)
    ]
    assert lrs(lambda o: lr_scheduler.MultiStepLR(o, [2, 5], gamma=0.1)) == pytest.approx(
        [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]
    )
    assert lrs(lambda o: lr_scheduler.ExponentialLR(o, 0.9)) == pytest.approx(
        [0.9**e for e in range(8)]
    )
    cosine = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.1))
    assert cosine[:5] == pytest.approx(
        [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    )


def test_reduce_lr_on_plateau():
    opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    history = []
    for metric in [1.0] + [0.9] * 12:
        sched.step(metric)
        history.append(opt.param_groups[0]["lr"])
    # After the second epoch nothing improves: more than 2 bad epochs reduce (epoch 5); the
    # cooldown epoch counts none; so every 4 epochs after that, down to min_lr and no lower.
    assert history == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]


def test_cross_entropy_and_nll_with_class_weights_and_ignore_index():
    logits = RNG.standard_normal((5, 3))
    target = np.array([0, 2, 1, 2, 0])
    weight = np.array([0.5, 2.0, 1.0])
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per = -log_p[range(5), target]
    w = weight[target]
    ce = nn.CrossEntropyLoss(weight=t64(weight))
    np.testing.assert_allclose(
        ce(t64(logits), torch.tensor(target)).item(), (w * per).sum() / w.sum()
    )
    ignored = target.copy()
    ignored[[1, 3]] = -100
    keep = ignored != -100
    got = F.cross_entropy(t64(logits), torch.tensor(ignored), reduction="sum").item()
    np.testing.assert_allclose(got, per[keep].sum())
    nll = nn.NLLLoss(weight=t64(weight), ignore_index=1)
    mask = target != 1
    np.testing.assert_allclose(
        nll(t64(log_p), torch.tensor(target)).item(), (w * per)[mask].sum() / w[mask].sum()
    )
    tw, tt = t64(weight), torch.tensor(ignored)
    check_grads(lambda v: F.cross_entropy(v, tt, tw), logits)
