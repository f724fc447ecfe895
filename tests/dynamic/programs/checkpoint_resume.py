"""Save a training checkpoint (model and optimizer state, epoch, loss history) with
torch.save, load it into fresh objects, and resume: the resumed run matches the unbroken one."""

import os
import tempfile

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn


def make():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    return model, torch.optim.Adam(model.parameters(), lr=0.01)


torch.manual_seed(0)
X = torch.randn(128, 4)
y = (X**2).sum(dim=1, keepdim=True)


def train(model, optimizer, steps):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


model, optimizer = make()
history = train(model, optimizer, 100)
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save(
    {
        "epoch": 100,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "history": history,
    },
    path,
)
unbroken = train(model, optimizer, 50)

model2, optimizer2 = make()
checkpoint = torch.load(path, weights_only=True)
model2.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
start_epoch = checkpoint["epoch"]
resumed = train(model2, optimizer2, 50)
print(f"resumed at {start_epoch}: {resumed[-1]:.5f} vs unbroken {unbroken[-1]:.5f}")
final_loss = resumed[-1]
same = abs(resumed[-1] - unbroken[-1]) < 1e-6 and checkpoint["history"] == history
