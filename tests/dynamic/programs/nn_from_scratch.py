"""Logistic regression on MNIST from scratch, then refactored step by step onto torch.nn,
optim and DataLoader (in the style of "what is torch.nn really")."""

import math

import numpy as np

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn.functional as F
from flowgraph.dynamic import nn, optim
from flowgraph.dynamic.data import mnist
from flowgraph.dynamic.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
train, valid = mnist(train=True, normalize=None), mnist(train=False, normalize=None)
x_train, y_train = (torch.from_numpy(a) for a in train.arrays)
x_valid, y_valid = (torch.from_numpy(a) for a in valid.arrays)
x_train, x_valid = x_train.reshape(-1, 784), x_valid.reshape(-1, 784)
n, c = x_train.shape
print(x_train.shape, y_train.min(), y_train.max())

# ---- 1. by hand: weights, log_softmax, negative log-likelihood ----
weights = torch.randn(784, 10) / math.sqrt(784)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


bs, lr, epochs = 64, 0.5, 1
loss_func = nll
for _epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        xb, yb = x_train[start_i : start_i + bs], y_train[start_i : start_i + bs]
        loss = loss_func(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
scratch_accuracy = accuracy(model(x_valid), y_valid).item()
print("from scratch:", loss_func(model(x_valid), y_valid).item(), scratch_accuracy)


# ---- 2. nn.Module, F.cross_entropy, optim, TensorDataset and DataLoader ----
class MnistLogistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


def get_model():
    model = MnistLogistic()
    return model, optim.SGD(model.parameters(), lr=lr)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(epoch, val_loss)
    return val_loss


train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=bs, shuffle=True)
valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=bs * 2)
model, opt = get_model()
final_loss = fit(2, model, F.cross_entropy, opt, train_dl, valid_dl)
with torch.no_grad():
    final_accuracy = accuracy(model(x_valid), y_valid).item()
print("refactored:", final_loss, final_accuracy)
