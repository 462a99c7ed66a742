"""ONNX exporter exceptions (the names of torch.onnx.errors)."""


class OnnxExporterWarning(UserWarning):
    """Warnings in the ONNX exporter."""


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter; the base class of every exporter error."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op of the traced forward pass has no ONNX translation."""

    def __init__(self, op, module_path, module_type, detail=""):
        where = f"module '{module_path}' ({module_type})"
        super().__init__(f"ONNX export: op '{op}' in {where} is not supported" + (f": {detail}" if detail else ""))
        self.op, self.module_path, self.module_type = op, module_path, module_type


class SymbolicValueError(OnnxExporterError):
    """A value of the trace cannot be expressed in the graph (e.g. it depends on the input outside traced ops)."""


__all__ = ["OnnxExporterWarning", "OnnxExporterError", "UnsupportedOperatorError", "SymbolicValueError"]
