"""The PyTorch MNIST program of flowgraph's design documents, run on flowgraph.dynamic.

It is shared/seed-programs/mnist_pytorch_seed.py with only its imports and data loading changed
(plus command-line flags for the epoch count and data directory): ``import flowgraph.dynamic
as torch`` and flowgraph's MNIST loader, which without ``--data-dir`` gives the sample of real
MNIST bundled with flowgraph, normalised as torchvision's ``Normalize((0.1307,), (0.3081,))``.

    python examples/mnist_dynamic.py --epochs 3
    python examples/mnist_dynamic.py --data-dir ~/MNIST_data   # the full 60,000 + 10,000 set
"""

# ruff: noqa: UP008, UP031 - the seed program's own super() call and %-formatted prints
import argparse

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.optim as optim
from flowgraph.dynamic.data import DataLoader, mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")
parser.add_argument(
    "--data-dir", default=None, help="directory of the MNIST IDX files (default: bundled sample)"
)
args = parser.parse_args()


# 1. 定义网络结构
class MNISTModel(nn.Module):
    def __init__(self):
        super(MNISTModel, self).__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = torch.relu(self.fc1(x))
        x = self.fc2(x)
        return x


# 2. 准备数据
train_data = mnist(train=True, root=args.data_dir)
test_data = mnist(train=False, root=args.data_dir)
train_loader = DataLoader(train_data, batch_size=100, shuffle=True)
test_loader = DataLoader(test_data, batch_size=100, shuffle=False)

# 3. 训练网络
model = MNISTModel()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

for epoch in range(args.epochs):
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % 100 == 0:
            print("Epoch %d, batch %d, loss: %g" % (epoch, batch_idx, loss.item()))

# 4. 评估网络
correct = 0
total = 0
with torch.no_grad():
    for data, target in test_loader:
        output = model(data)
        _, predicted = torch.max(output.data, 1)
        total += target.size(0)
        correct += (predicted == target).sum().item()

print("Test accuracy: %g" % (correct / total))
