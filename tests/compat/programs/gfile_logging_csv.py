"""Write a CSV data set with tf.gfile, read it back, train on it and report with tf.logging."""

import os
import tempfile

import numpy as np

import flowgraph.compat.v1 as tf

tf.logging.set_verbosity(tf.logging.INFO)
data_dir = os.path.join(tempfile.mkdtemp(), "data")
tf.gfile.MakeDirs(data_dir)

rng = np.random.RandomState(3)
for part in range(3):
    with tf.gfile.GFile(os.path.join(data_dir, "part-%d.csv" % part), "w") as f:
        for _ in range(100):
            a, b = rng.uniform(-1, 1, 2)
            f.write("%f,%f,%d\n" % (a, b, int(a + b > 0)))

rows = []
for filename in tf.gfile.Glob(os.path.join(data_dir, "part-*.csv")):
    tf.logging.info("reading %s (%d bytes)", filename, tf.gfile.Stat(filename).length)
    with tf.gfile.Open(filename, "r") as f:
        rows.extend([float(v) for v in line.strip().split(",")] for line in f)
data = np.array(rows, np.float32)
tf.logging.info("read %d examples from %d files", len(data), len(tf.gfile.ListDirectory(data_dir)))

x = tf.placeholder(tf.float32, [None, 2])
y = tf.placeholder(tf.int32, [None])
logits = tf.layers.dense(x, 2)
loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
accuracy = tf.reduce_mean(tf.to_float(tf.equal(tf.to_int32(tf.argmax(logits, 1)), y)))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(100):
        _, l = sess.run([train, loss], {x: data[:, :2], y: data[:, 2].astype(np.int32)})
        if step % 50 == 0:
            tf.logging.info("step %d loss %.4f", step, l)
    acc = sess.run(accuracy, {x: data[:, :2], y: data[:, 2].astype(np.int32)})

tf.gfile.Copy(os.path.join(data_dir, "part-0.csv"), os.path.join(data_dir, "copy.csv"))
tf.gfile.Rename(os.path.join(data_dir, "copy.csv"), os.path.join(data_dir, "moved.csv"))
tf.gfile.Remove(os.path.join(data_dir, "moved.csv"))
walked = [len(files) for _, _, files in tf.gfile.Walk(data_dir)]
tf.logging.warn("cleaning up %d files", sum(walked))
tf.gfile.DeleteRecursively(os.path.dirname(data_dir))
tf.logging.set_verbosity(tf.logging.WARN)
print("directory removed:", not tf.gfile.Exists(data_dir))
print("training accuracy:", acc)
