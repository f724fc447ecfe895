"""Bag-of-embeddings over padded sequences: embedding_lookup, a sequence_mask to ignore the
padding, and a classifier on the masked mean; the class is whether token 1 occurs."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(5)
vocab, max_len, n = 20, 8, 400
lengths_np = rng.randint(2, max_len + 1, n).astype(np.int32)
tokens_np = rng.randint(2, vocab, (n, max_len)).astype(np.int32)
labels_np = rng.randint(0, 2, n)
for i in range(n):
    tokens_np[i, lengths_np[i] :] = 0  # padding
    if labels_np[i]:
        tokens_np[i, rng.randint(0, lengths_np[i])] = 1

tokens = tf.placeholder(tf.int32, [None, max_len])
lengths = tf.placeholder(tf.int32, [None])
labels = tf.placeholder(tf.int64, [None])
embeddings = tf.get_variable(
    "embeddings", [vocab, 8], initializer=tf.random_uniform_initializer(-0.1, 0.1)
)
embedded = tf.nn.embedding_lookup(embeddings, tokens)
mask = tf.sequence_mask(lengths, max_len, dtype=tf.float32)
summed = tf.reduce_sum(embedded * tf.expand_dims(mask, -1), axis=1)
mean = summed / tf.expand_dims(tf.to_float(lengths), -1)
logits = tf.layers.dense(mean * 10.0, 2)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
train = tf.train.AdamOptimizer(0.05).minimize(loss)
correct = tf.count_nonzero(tf.equal(tf.argmax(logits, 1), labels))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    feed = {tokens: tokens_np, lengths: lengths_np, labels: labels_np}
    for _ in range(150):
        sess.run(train, feed)
    print("padding positions:", int(sess.run(tf.reduce_sum(1 - mask), feed)))
    print("accuracy:", sess.run(correct, feed) / n)
