#!/usr/bin/env python3
"""Checks an ONNX file with the onnx package's checker and runs it in ONNX Runtime.

usage: Scripts/check-onnx.py MODEL.onnx [INPUTS.f32 OUTPUTS.f32]

With INPUTS, a file of float32 values (little-endian) holding a batch in the model's input
layout ([N, height, width, channels] for `cnn export`'s files), the model runs on them in
ONNX Runtime (CPU) and its outputs are written to OUTPUTS as float32, so that they can be set
beside the framework's own `predict` on the same inputs. Prints the checker's verdict, the
opset and the runtime's version.

Needs Python's onnx and onnxruntime (`pip install onnx onnxruntime`, in a virtual
environment). Exit status: 0 checked (and run), 1 the checker or the runtime refused the
model, 2 bad command line or missing packages.
"""
import sys

def main():
    if len(sys.argv) not in (2, 4) or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help") else 2
    try:
        import numpy as np, onnx, onnxruntime as ort
    except ImportError as e:
        print("error: %s (pip install onnx onnxruntime)" % e, file=sys.stderr)
        return 2
    model = onnx.load(sys.argv[1])
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:
        print("error: onnx.checker refused the model: %s" % e, file=sys.stderr)
        return 1
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    print("onnx.checker: passed (opset %d, onnx %s, onnxruntime %s)" % (opset, onnx.__version__, ort.__version__))
    if len(sys.argv) == 4:
        runtime = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
        x = np.fromfile(sys.argv[2], dtype="<f4").reshape([-1] + shape)
        (y,) = runtime.run(None, {model.graph.input[0].name: x})
        y.astype("<f4").tofile(sys.argv[3])
        print("ran %d inputs: output %s" % (x.shape[0], list(y.shape)))
    return 0

if __name__ == "__main__":
    sys.exit(main())
