"""Train, checkpoint with a meta graph every few steps, then rebuild the model from the .meta
file alone in a fresh graph, restore the latest checkpoint and keep training."""

import os
import tempfile

import numpy as np

import flowgraph.compat.v1 as tf

model_dir = os.path.join(tempfile.mkdtemp(), "model")
if not tf.gfile.Exists(model_dir):
    tf.gfile.MakeDirs(model_dir)

rng = np.random.RandomState(0)
data_x = rng.uniform(-1, 1, (200, 3)).astype(np.float32)
data_y = data_x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3

x = tf.placeholder(tf.float32, [None, 3], name="x")
y = tf.placeholder(tf.float32, [None, 1], name="y")
w = tf.get_variable("w", [3, 1], initializer=tf.zeros_initializer())
b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
prediction = tf.identity(tf.matmul(x, w) + b, name="prediction")
loss = tf.reduce_mean(tf.squared_difference(prediction, y), name="loss")
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.GradientDescentOptimizer(0.3).minimize(loss, global_step=global_step)
tf.add_to_collection("train_op", train_op)

saver = tf.train.Saver(max_to_keep=2)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(30):
        sess.run(train_op, {x: data_x, y: data_y})
        if (step + 1) % 10 == 0:
            saver.save(sess, os.path.join(model_dir, "model.ckpt"), global_step=global_step)
    first_loss = sess.run(loss, {x: data_x, y: data_y})
print(
    "checkpoints kept:", sorted(f for f in tf.gfile.ListDirectory(model_dir) if f.endswith(".meta"))
)

tf.reset_default_graph()
with tf.Session() as sess:
    ckpt = tf.train.get_checkpoint_state(model_dir)
    new_saver = tf.train.import_meta_graph(ckpt.model_checkpoint_path + ".meta")
    new_saver.restore(sess, tf.train.latest_checkpoint(model_dir))
    graph = tf.get_default_graph()
    x = graph.get_tensor_by_name("x:0")
    y = graph.get_tensor_by_name("y:0")
    loss = graph.get_tensor_by_name("loss:0")
    train_op = tf.get_collection("train_op")[0]
    restored_loss = sess.run(loss, {x: data_x, y: data_y})
    assert abs(restored_loss - first_loss) < 1e-6, (restored_loss, first_loss)
    for _ in range(40):
        sess.run(train_op, {x: data_x, y: data_y})
    print("global step:", sess.run(graph.get_tensor_by_name("global_step:0")))
    print("loss after restoring and training on:", sess.run(loss, {x: data_x, y: data_y}))
tf.gfile.DeleteRecursively(os.path.dirname(model_dir))
