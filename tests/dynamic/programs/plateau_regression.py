"""Robust regression with outliers: SmoothL1Loss, SGD with Nesterov momentum, MultiStepLR for
the first phase and ReduceLROnPlateau on the validation loss afterwards."""

import flowgraph.dynamic as torch
from flowgraph.dynamic import nn, optim
from flowgraph.dynamic.optim.lr_scheduler import MultiStepLR, ReduceLROnPlateau

torch.manual_seed(9)
X = torch.rand(300, 1) * 4 - 2
y = 3 * X - 1 + 0.05 * torch.randn(300, 1)
y[::25] += 8.0  # outliers, which an L2 loss would chase
X_val = torch.linspace(-2, 2, 50).unsqueeze(1)
y_val = 3 * X_val - 1

model = nn.Linear(1, 1)
loss_fn = nn.SmoothL1Loss()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
warmup = MultiStepLR(optimizer, milestones=[20, 40], gamma=0.5)
plateau = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)

for epoch in range(120):
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        val_loss = nn.functional.mse_loss(model(X_val), y_val).item()
    if epoch < 60:
        warmup.step()
    else:
        plateau.step(val_loss)

slope, intercept = model.weight.item(), model.bias.item()
print(
    f"y = {slope:.3f} x + {intercept:.3f}; val mse {val_loss:.5f}; "
    f"lr {optimizer.param_groups[0]['lr']}"
)
final_loss = val_loss
