#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU, install the CuPy extra, run the backend-generic
# tests (op tables, registry gradient checks, optimizers, seed-model training) on CuPy, the
# CuPy tests (cross-check NumPy vs CuPy, CPU/GPU placement), and time the seed MLP step on
# CuPy against NumPy at batch 100 and 8,192, printing the speed-up.
#
# Run from anywhere:  bash benchmarks/gpu_check.sh
# Environment: VENV (default .venv; created if missing), PYTHON (default python3, to create
# it), GPU_CHECK_QUICK=1 (the op tables at float32 only: fewer CuPy kernels to compile on a
# cold cache), GPU_CHECK_SKIP_INSTALL=1 (use the venv as it is).
# Exit status: 0 all passed, 1 a check failed, 2 no GPU here (nothing was checked).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
START=$SECONDS

stage() { echo; echo "=== $* ($((SECONDS - START)) s)"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu_check: no NVIDIA GPU here (nvidia-smi is missing or lists no GPU): nothing to check." >&2
    echo "gpu_check: the CPU parts run in CI (python -m pytest); this script needs a GPU machine." >&2
    exit 2
fi
nvidia-smi -L

stage "environment: $VENV"
[ -d "$VENV" ] || "$PYTHON" -m venv "$VENV"
if [ "${GPU_CHECK_SKIP_INSTALL:-0}" != 1 ]; then
    "$VENV/bin/pip" install -q -e ".[gpu,test,bench]"
fi
# A clear error (what to install, why CuPy cannot start) before any test runs.
if ! "$VENV/bin/python" -c "from flowgraph.backends import get_backend; print(get_backend('cupy'))"; then
    echo "gpu_check: CuPy cannot use the GPU here (see the error above)." >&2
    exit 2
fi

GENERIC=(
    tests/ops
    tests/autodiff/test_registry_gradients.py
    tests/train/test_optimizers.py
    tests/train/test_training.py
    tests/backends/test_generic_ops.py
)
SELECT=()
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then
    SELECT=(-k "not float64 and not int32 and not float16")
fi

status=0
stage "op tables, gradient checks and training on CuPy"
"$VENV/bin/python" -m pytest "${GENERIC[@]}" --backends=cupy -q -p no:cacheprovider \
    "${SELECT[@]}" || status=1

stage "CuPy against NumPy: cross-check, placement, the seed step"
"$VENV/bin/python" -m pytest tests/backends -m cupy -q -p no:cacheprovider -rs || status=1

stage "benchmark: seed MLP step, CuPy vs NumPy"
"$VENV/bin/python" benchmarks/gpu_step.py --batches 100,8192 || status=1

stage "done"
if [ "$status" -ne 0 ]; then
    echo "gpu_check: some checks FAILED (see above)." >&2
fi
exit "$status"
