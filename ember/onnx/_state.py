"""Whether an export is tracing (kept apart from utils so that is_in_onnx_export never needs onnx)."""
EXPORTING = [False]
