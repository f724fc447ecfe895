"""A small CNN with BatchNorm2d, AvgPool2d, Dropout2d and AdaptiveAvgPool2d telling horizontal
from vertical bars in noisy synthetic 12x12 images."""

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.nn.functional as F
from flowgraph.dynamic.utils.data import DataLoader, TensorDataset

torch.manual_seed(21)


def make_images(n):
    labels = torch.randint(0, 2, (n,))
    images = 0.3 * torch.randn(n, 1, 12, 12)
    rows = torch.randint(2, 10, (n,))
    for i in range(n):
        if labels[i].item() == 0:
            images[i, 0, rows[i], :] += 1.5
        else:
            images[i, 0, :, rows[i]] += 1.5
    return images, labels


class BarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.pool = nn.AvgPool2d(2)
        self.drop = nn.Dropout2d(0.1)
        self.conv2 = nn.Conv2d(6, 8, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = self.drop(self.pool(F.relu(self.bn1(self.conv1(x)))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


train_x, train_y = make_images(256)
test_x, test_y = make_images(100)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=32, shuffle=True)
model = BarNet()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(4):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    logits = model(test_x)
    final_loss = F.cross_entropy(logits, test_y).item()
    final_accuracy = (logits.argmax(1) == test_y).float().mean().item()
print(f"test accuracy {final_accuracy:.2f}; running mean {model.bn1.running_mean}")
