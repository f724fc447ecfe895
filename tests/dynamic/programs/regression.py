"""Linear regression on synthetic data: random_split into train/validation, DataLoader with
shuffling, nn.Linear, MSELoss, SGD, and an ExponentialLR schedule."""

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
from flowgraph.dynamic.optim.lr_scheduler import ExponentialLR
from flowgraph.dynamic.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(42)
true_w = torch.tensor([[2.0], [-3.4], [1.5]])
true_b = 4.2
X = torch.randn(1000, 3)
y = X @ true_w + true_b + 0.01 * torch.randn(1000, 1)

dataset = TensorDataset(X, y)
train_set, val_set = random_split(dataset, [800, 200], generator=torch.Generator().manual_seed(0))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=200)

model = nn.Linear(3, 1)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
scheduler = ExponentialLR(optimizer, gamma=0.9)

for epoch in range(5):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    scheduler.step()
    model.eval()
    with torch.no_grad():
        val_loss = sum(criterion(model(xb), yb).item() for xb, yb in val_loader)
    print(f"epoch {epoch}: val loss {val_loss:.5f}, lr {scheduler.get_last_lr()[0]:.4f}")

print("w:", model.weight.data.flatten().tolist(), "b:", model.bias.item())
final_loss = val_loss
weight_error = (model.weight.data.t() - true_w).abs().max().item()
