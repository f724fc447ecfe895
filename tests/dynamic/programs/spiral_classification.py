"""Three-class spirals: BatchNorm1d, LeakyReLU, Dropout, CrossEntropyLoss, AdamW with a
CosineAnnealingLR schedule, mini-batches from a shuffled DataLoader, clip_grad_norm_."""

import math

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.optim as optim
from flowgraph.dynamic.utils.data import DataLoader, TensorDataset

torch.manual_seed(3)
points_per_class, classes = 150, 3
xs, ys = [], []
for c in range(classes):
    r = torch.linspace(0.0, 1.0, points_per_class)
    t = torch.linspace(c * 4.0, (c + 1) * 4.0, points_per_class) + 0.2 * torch.randn(
        points_per_class
    )
    xs.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
    ys.append(torch.full((points_per_class,), c, dtype=torch.long))
X, Y = torch.cat(xs), torch.cat(ys)

model = nn.Sequential(
    nn.Linear(2, 64),
    nn.BatchNorm1d(64),
    nn.LeakyReLU(0.1),
    nn.Dropout(0.1),
    nn.Linear(64, 64),
    nn.BatchNorm1d(64),
    nn.LeakyReLU(0.1),
    nn.Linear(64, classes),
)
epochs = 12
loader = DataLoader(TensorDataset(X, Y), batch_size=60, shuffle=True, drop_last=True)
optimizer = optim.AdamW(model.parameters(), lr=0.02, weight_decay=1e-3)
scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
criterion = nn.CrossEntropyLoss()

for _epoch in range(epochs):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
    scheduler.step()

model.eval()
with torch.no_grad():
    logits = model(X)
    final_loss = criterion(logits, Y).item()
    final_accuracy = (logits.argmax(dim=1) == Y).float().mean().item()
print(f"accuracy {final_accuracy:.3f}, loss {final_loss:.4f}, lr {scheduler.get_last_lr()[0]:.5f}")
last_lr = scheduler.get_last_lr()[0]
math_ok = math.isclose(last_lr, 0.0, abs_tol=1e-12)
