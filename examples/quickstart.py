"""flowgraph quickstart: build a graph first, then run it in a Session (TensorFlow 1 style).

Run it with ``python examples/quickstart.py``.
"""

import numpy as np

import flowgraph as fg
from flowgraph.compiler.plan import compile_plan

# 1. Build the graph. Nothing is computed here: each call adds a node and returns a symbolic
#    Tensor whose shape and dtype are already known.
x = fg.placeholder(fg.float64, [None, 3], name="x")  # fed at run time; any batch size
W_init = np.array([[0.5, -1.0], [0.25, 0.0], [-0.5, 1.0]])
b_init = np.array([0.1, -0.1])
W = fg.Variable(W_init, name="W")  # kept by each Session between runs
b = fg.Variable(b_init, name="b")
h = fg.tanh(fg.matmul(x, W) + b, name="h")  # shape [None, 2]
total = fg.reduce_sum(h, name="total")  # a scalar

print("x:", x)
print("h:", h)
print("total:", total)

# 2. Run it. A Session holds the variables' values; the initializer sets them once.
batch = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
with fg.Session() as sess:
    sess.run(fg.global_variables_initializer())
    h_value, total_value = sess.run([h, total], feed_dict={x: batch})

print("h =")
print(h_value)
print(f"total = {total_value:.6f}")

# The same numbers with plain NumPy, to show nothing magic happened.
expected = np.tanh(batch @ W_init + b_init)
assert np.allclose(h_value, expected) and np.isclose(total_value, expected.sum())
print("matches NumPy: True")

# 3. Look inside. Session.run compiles each (fetches, feeds) signature once into a Plan: the
#    ops the fetches need, in order, as straight-line Python. This is exactly what runs:
plan = compile_plan([h, total], [x])
print()
print("Generated code for sess.run([h, total], feed_dict={x: ...}):")
print(plan.source)
