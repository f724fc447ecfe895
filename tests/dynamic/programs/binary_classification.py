"""Binary classification of two interleaved half-moons: an MLP with Tanh, BCEWithLogitsLoss,
Adam, and a sigmoid threshold for accuracy."""

import math

import flowgraph.dynamic as torch
from flowgraph.dynamic import nn

torch.manual_seed(7)
n = 400
angles = torch.rand(n) * math.pi
upper = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
lower = torch.stack([1 - torch.cos(angles), 0.5 - torch.sin(angles)], dim=1)
X = torch.cat([upper, lower]) + 0.1 * torch.randn(2 * n, 2)
y = torch.cat([torch.zeros(n), torch.ones(n)]).unsqueeze(1)

perm = torch.randperm(2 * n)
X, y = X[perm], y[perm]
X_train, y_train, X_test, y_test = X[:600], y[:600], X[600:], y[600:]

model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.03)

for epoch in range(200):
    logits = model(X_train)
    loss = loss_fn(logits, y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0:
        print(f"epoch {epoch}: loss {loss.item():.4f}")

with torch.no_grad():
    probs = torch.sigmoid(model(X_test))
    predicted = (probs > 0.5).float()
    final_accuracy = (predicted == y_test).float().mean().item()
    final_loss = nn.BCELoss()(probs, y_test).item()
print(f"test accuracy {final_accuracy:.3f}, BCE {final_loss:.4f}")
