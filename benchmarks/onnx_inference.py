"""The exported seed MLP in onnxruntime against flowgraph's Session.run, at batch 10,000.

The seed model (784-256-10, float32, the weights of ``inference.py``) is exported with
``flowgraph.onnx.export`` and run by onnxruntime's CPU provider on the same batch. Both run in
this process, taking turns, each on one thread: BLAS limited to 1 thread with threadpoolctl,
onnxruntime with ``intra_op_num_threads = inter_op_num_threads = 1`` and sequential execution.
The script checks that they agree, then prints the median time of each and the ratio
onnxruntime / flowgraph (below 1: onnxruntime is faster). There is no target: this measures
how flowgraph's NumPy execution compares with a dedicated inference engine.

Run:  python benchmarks/onnx_inference.py   (needs pip install -e ".[bench,onnx]")
Options: --batch N (default 10000), --repeat R (default 15), --number K (default 3).
"""

from __future__ import annotations

import argparse

import numpy as np
from common import blas_threads, median_seconds
from inference import D_HID, D_IN, D_OUT, build_flowgraph, mlp_params

import flowgraph.onnx

try:
    import onnxruntime as ort
except ImportError as e:  # pragma: no cover
    raise SystemExit('This benchmark needs onnxruntime: pip install -e ".[onnx]"') from e


def ort_session(model) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10_000, help="batch size (default 10000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (median is kept)")
    parser.add_argument("--number", type=int, default=3, help="runs per round")
    args = parser.parse_args(argv)

    with blas_threads(1):
        print(f"onnxruntime {ort.__version__}, 1 intra-op and 1 inter-op thread, sequential")
        rng = np.random.default_rng(0)
        params = mlp_params(rng)
        batch = rng.random((args.batch, D_IN), dtype=np.float32)
        sess, x, logits = build_flowgraph(params)
        model = flowgraph.onnx.export(logits, x, session=sess)
        runtime = ort_session(model)
        feed, ort_feed = {x: batch}, {"x": batch}

        expected = sess.run(logits, feed_dict=feed)
        np.testing.assert_allclose(runtime.run(None, ort_feed)[0], expected, rtol=1e-4, atol=1e-4)
        medians = median_seconds(
            {
                "fg": lambda: sess.run(logits, feed_dict=feed),
                "ort": lambda: runtime.run(None, ort_feed),
            },
            args.repeat,
            args.number,
        )
        sess.close()

    fg_s, ort_s = medians["fg"], medians["ort"]
    print(
        f"seed MLP forward {D_IN}-{D_HID}-{D_OUT}, batch {args.batch}, float32; median of "
        f"{args.repeat} rounds x {args.number} runs"
    )
    print("results agree (assert_allclose, rtol=1e-4)")
    print()
    print(f"{'flowgraph Session.run':<40}{fg_s * 1e3:>9.2f} ms")
    print(f"{'onnxruntime (exported model)':<40}{ort_s * 1e3:>9.2f} ms")
    print(f"{'ratio onnxruntime / Session.run':<40}{ort_s / fg_s:>9.3f}")


if __name__ == "__main__":
    main()
