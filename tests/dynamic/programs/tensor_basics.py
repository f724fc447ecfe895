"""Tensors as the tutorials introduce them: creation, dtypes and promotion, devices,
indexing and masks, joining, math and reductions, NumPy bridge."""

import numpy as np

import flowgraph.dynamic as torch

device = "cuda" if torch.cuda.is_available() else "cpu"
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_np = torch.from_numpy(np.array(data))
x_ones = torch.ones_like(x_data)
x_rand = torch.rand_like(x_data, dtype=torch.float)
shape = (2, 3)
print(torch.rand(shape), torch.ones(shape), torch.zeros(shape, device=device), sep="\n")
print(f"Shape: {x_rand.shape}\nDatatype: {x_rand.dtype}\nDevice: {x_rand.device}")

tensor = torch.ones(4, 4)
tensor[:, 1] = 0
print(f"First row: {tensor[0]}, first column: {tensor[:, 0]}, last column: {tensor[..., -1]}")
t1 = torch.cat([tensor, tensor, tensor], dim=1)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T)
z1 = tensor * tensor
agg = tensor.sum()
print(agg.item(), t1.shape, bool((y1 == y2).all()))
tensor.add_(5)

# Promotion: an int tensor with a float tensor or a float number becomes float.
ints = torch.arange(1, 5)
promoted = (ints * 0.5).dtype == torch.float32 and (ints ** torch.tensor(2.0)).dtype == torch.float
print(ints / 2, ints // 2, ints.float().mean())

# Indexing with integer arrays, masks, range; gather and scatter.
scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
labels = torch.tensor([1, 0, 2])
picked = scores[range(3), labels]
masked = scores[scores > 0.4]
gathered = scores.gather(1, labels.unsqueeze(1)).squeeze(1)
one_hot = torch.zeros(3, 3).scatter(1, labels.unsqueeze(1), 1.0)
values, indices = scores.topk(2, dim=1)
sorted_scores, order = torch.sort(scores[:, 0], descending=True)
print(picked, masked, gathered, one_hot, indices, order, sep="\n")
indexing_ok = (
    torch.allclose(picked, torch.tensor([0.7, 0.5, 0.6]))
    and torch.equal(picked, gathered)
    and masked.numel() == 3
    and one_hot.argmax(1).tolist() == labels.tolist()
    and order.tolist() == [1, 2, 0]
)

# Reductions and shapes.
m = torch.arange(12, dtype=torch.float32).view(3, 4)
print(m.mean(dim=0), m.std(), m.cumsum(dim=1)[-1], m.max(dim=1).values, torch.stack([m, m]).shape)
reshaped = m.view(-1, 2).permute(1, 0).contiguous()
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
bridge_ok = t.tolist() == [2.0] * 5
moved = m.to(device)
print(f"{m.sum():.1f}", moved.device)
