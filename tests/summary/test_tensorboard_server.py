"""End to end: the real ``tensorboard`` server reads what flowgraph wrote and serves it over HTTP.

Starts ``tensorboard --logdir <tmp> --host 127.0.0.1 --port <free>`` as a subprocess, waits (at
most 60 s) until its HTTP API answers with the run's data, checks the scalars and the graph from
the graphs plugin's data route, and stops it.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import flowgraph.compat.v1 as tf

pytest.importorskip("tensorboard")

DEADLINE_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tensorboard_command() -> list:
    script = Path(sys.executable).with_name("tensorboard")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tensorboard.main"]


def write_run(logdir) -> None:
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.name_scope("model"):
        w = tf.Variable(np.ones((3, 2), np.float32), name="w")
        y = tf.matmul(x, w, name="y")
    loss = tf.reduce_mean(tf.square(y), name="loss_value")
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    batch = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as sess, tf.summary.FileWriter(logdir, sess.graph) as writer:
        sess.run(tf.global_variables_initializer())
        for step in range(4):
            options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) if step == 0 else None
            meta = tf.RunMetadata()
            summary, _ = sess.run([merged, train], {x: batch}, options=options, run_metadata=meta)
            writer.add_summary(summary, step)
            if step == 0:
                writer.add_run_metadata(meta, "step0", step)


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_for(url: str, ready, process, deadline: float):
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"tensorboard exited with {process.returncode}")
        try:
            body = get(url)
            if ready(body):
                return body
            last = body
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = e
        time.sleep(0.3)
    raise AssertionError(f"tensorboard did not serve {url} in time; last answer: {last!r}")


def test_tensorboard_serves_flowgraphs_scalars_and_graph(tmp_path):
    with tf.Graph().as_default():
        write_run(tmp_path)
    port = free_port()
    command = tensorboard_command() + [
        "--logdir", str(tmp_path), "--host", "127.0.0.1", "--port", str(port), "--reload_interval",
        "1",
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + DEADLINE_S
    try:
        wait_for(f"{base}/data/runs", lambda body: "." in json.loads(body), process, deadline)
        scalars = json.loads(
            wait_for(
                f"{base}/data/plugin/scalars/scalars?run=.&tag=loss",
                lambda body: len(json.loads(body)) == 4,
                process,
                deadline,
            )
        )
        steps = [step for _, step, _ in scalars]
        values = [value for _, _, value in scalars]
        assert steps == [0, 1, 2, 3]
        assert values[0] == pytest.approx(np.mean(np.square(np.arange(6.0).reshape(2, 3).sum(1))))
        assert values[-1] < values[0]  # Adam lowered the loss
        graph = wait_for(
            f"{base}/data/plugin/graphs/graph?run=.&limit_attr_size=1024"
            "&large_attrs_key=_too_large_attrs",
            lambda body: "node" in body,
            process,
            deadline,
        )
        assert 'name: "model/y"' in graph and 'op: "MatMul"' in graph
        assert 'name: "Adam/update_model/w/ApplyAdam"' in graph
        assert 'input: "model/w"' in graph
        assert "_output_shapes" in graph and "size: 3" in graph
        # The traced step: the dashboard offers it as a profile (compute time and memory).
        info = json.loads(get(f"{base}/data/plugin/graphs/info"))
        assert info["."]["tags"]["step0"]["profile"] is True
        stats = get(f"{base}/data/plugin/graphs/run_metadata?run=.&tag=step0")
        assert 'node_name: "model/y"' in stats and "all_end_rel_micros" in stats
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
