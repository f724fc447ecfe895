"""A tour of autograd as PyTorch shows it: requires_grad, grad_fn and its next_functions,
backward and .grad, retain_grad, torch.autograd.grad (also of a gradient), detach, no_grad,
and the errors for in-place changes that would corrupt a gradient."""

import flowgraph.dynamic as torch

x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

# Walk the recorded graph from the loss down to the leaves.
seen, stack, leaves = [], [loss.grad_fn], 0
while stack:
    node = stack.pop()
    seen.append(type(node).__name__)
    for parent, _index in node.next_functions:
        if parent is None:
            continue
        if hasattr(parent, "variable"):
            leaves += 1
        else:
            stack.append(parent)
print(f"{len(seen)} nodes; {leaves} edges reach a leaf")

loss.backward()
print(w.grad.shape, b.grad.shape)
grads_ok = w.grad.shape == (5, 3) and b.grad.shape == (3,)

# Gradients of intermediate values, and of gradients.
a = torch.tensor([2.0, 3.0], requires_grad=True)
h = a * a
h.retain_grad()
out = (h * a).sum()  # a^3
out.backward()
print(h.grad, a.grad)  # 1s; 3 a^2
(da,) = torch.autograd.grad((a**3).sum(), a, create_graph=True)
(dda,) = torch.autograd.grad(da.sum(), a)
second_ok = dda.tolist() == [12.0, 18.0]

# Leaves that do not need gradients, and turning it on later.
c = torch.tensor([1.0, 2.0])
c.requires_grad_()
with torch.no_grad():
    frozen = c * 2
print(frozen.requires_grad, c.detach().requires_grad, (c * 2).requires_grad)

# In-place changes that PyTorch refuses.
errors = []
try:
    c += 1
except RuntimeError as e:
    errors.append(str(e).split(".")[0])
s = c.sigmoid()
t = s * s
with torch.no_grad():
    s.add_(1.0)
try:
    t.sum().backward()
except RuntimeError as e:
    errors.append(str(e).split(":")[0])
print(errors)
in_place_errors = len(errors)
