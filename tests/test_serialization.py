"""ember.save/ember.load against torch.save/torch.load, and ember.safetensors against safetensors.torch.

Every file ember writes is opened by torch (and vice versa) and compared with the object torch itself builds
from the same NumPy data: values, dtypes, shapes, strides, storage offsets, requires_grad, Parameter-ness and
container types. Hand-crafted checkpoints check map_location, bounds checks and that malicious pickles are
refused without running anything.
"""
import argparse
import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest
import safetensors
import safetensors.torch as st
import torch
from hypothesis import given, settings, strategies as hst

import ember
import ember.safetensors as es
from ember import serialization as ser
from parity import check_raises

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "float32",
          "float64", "complex64", "complex128"]


def _arr(dtype, shape, seed=0):
    """Deterministic test data of a NumPy dtype (non-trivial values for every kind)."""
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal(shape) * 50)
    if dtype == "bool":
        a = a > 0
    elif dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    elif dtype.startswith("uint"):
        a = np.abs(a)
    return np.asarray(a).astype(dtype)


def _is_tensor(x):
    return isinstance(x, (torch.Tensor, ember.Tensor))


def _storage_ptr(t):
    if isinstance(t, torch.Tensor):
        return t.untyped_storage().data_ptr()
    return ser._ptr(ser._root(t._data))


def _check(got, want, path="obj"):
    """`got` (either library) equals `want` (either library) in structure, types, layout and values."""
    if _is_tensor(want):
        assert _is_tensor(got), f"{path}: expected a tensor, got {type(got).__name__}"
        assert type(got).__name__ == type(want).__name__, f"{path}: {type(got).__name__} != {type(want).__name__}"
        assert str(got.dtype) == str(want.dtype), f"{path}: dtype {got.dtype} != {want.dtype}"
        assert tuple(got.shape) == tuple(want.shape), f"{path}: shape {tuple(got.shape)} != {tuple(want.shape)}"
        if want.numel():  # NumPy cannot express the strides/offset torch gives empty views
            assert tuple(got.stride()) == tuple(want.stride()), f"{path}: stride {got.stride()} != {want.stride()}"
            assert got.storage_offset() == want.storage_offset(), f"{path}: storage offset differs"
        assert got.requires_grad == want.requires_grad, f"{path}: requires_grad differs"
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy(), err_msg=path)
    elif isinstance(want, dict):
        assert type(got).__name__ == type(want).__name__, f"{path}: {type(got).__name__} != {type(want).__name__}"
        assert list(got) == list(want), f"{path}: keys {list(got)} != {list(want)}"
        for k in want:
            _check(got[k], want[k], f"{path}[{k!r}]")
        assert getattr(got, "_metadata", None) == getattr(want, "_metadata", None), f"{path}: _metadata differs"
    elif isinstance(want, (list, tuple)):
        assert type(got).__name__ == type(want).__name__, f"{path}: {type(got).__name__} != {type(want).__name__}"
        assert len(got) == len(want), f"{path}: length differs"
        for i, (g, w) in enumerate(zip(got, want)):
            _check(g, w, f"{path}[{i}]")
    elif isinstance(want, np.ndarray):
        assert type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape, f"{path}: {got!r}"
        assert got.flags.f_contiguous == want.flags.f_contiguous and got.flags.writeable, f"{path}: layout differs"
        np.testing.assert_array_equal(got, want, err_msg=path)
    elif isinstance(want, (torch.dtype, torch.device, ember.dtype, ember.device)):
        assert type(got).__name__ == type(want).__name__ and str(got) == str(want), f"{path}: {got!r} != {want!r}"
    else:
        assert type(got) is type(want) and got == want, f"{path}: {got!r} != {want!r}"


# ---------------------------------------------------------------------------------------------------------------------
# Objects built identically in both libraries
# ---------------------------------------------------------------------------------------------------------------------
def _views(t):
    x = t.from_numpy(np.arange(24, dtype=np.float64).reshape(4, 6))
    return {"x": x, "t": x.t(), "strided": x[1:, ::2], "col": x[:, 2], "flat": x.reshape(24)[5:11],
            "expand": x[:1].expand(3, 6), "perm": x.reshape(2, 3, 4).permute(2, 0, 1), "empty": x[4:], "row": x[3]}


def _params(t):
    a = _arr("float32", (3, 4))
    return OrderedDict(w=t.nn.Parameter(t.from_numpy(a.copy())),
                       frozen=t.nn.Parameter(t.from_numpy(a[:1].copy()), requires_grad=False),
                       leaf=t.from_numpy(a.copy()).requires_grad_(), nonleaf=t.from_numpy(a.copy()).requires_grad_() * 2,
                       f64=t.nn.Parameter(t.from_numpy(_arr("float64", (2,)))))


def _containers(t):
    a = _arr("float32", (2, 3))
    return {"state": {0: {"step": t.tensor(3.0), "exp_avg": t.from_numpy(a.copy())}, 1: {}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "foreach": None,
                              "params": [0, 1]}],
            "names": ["a", "é", "", "x" * 300], "set": {1, 2, 3}, "bytes": b"\x00\xff" * 3,
            "cplx": 1 - 2.5j, "ints": [0, 255, 256, 65535, 65536, -1, 2 ** 31, -2 ** 31 - 1, 2 ** 80, -2 ** 70],
            "floats": [0.0, -1.5, 1e300, float("inf")], "dtypes": [t.float16, t.bool, t.complex128, t.uint16],
            "size": t.Size([2, 3]), "device": t.device("cpu"), "nested": ((1,), [(), {}], ((), (None, True, False))),
            "keys": {2.5: "x", None: 0, (1, "a"): "t", -3: "n"}, "counter": Counter(a=3, b=1),
            "od": OrderedDict(b=1, a=[1, 2]), "bytearray": bytearray(b"ab")}


def _dtypes(t):
    return {d: t.from_numpy(_arr(d, (2, 3), i)) for i, d in enumerate(DTYPES)}


def _scalars_and_empty(t):
    return [t.from_numpy(_arr(d, (), i)) for i, d in enumerate(DTYPES)] + \
        [t.from_numpy(_arr("float64", (0, 3))), t.empty(0, dtype=t.int8), t.from_numpy(_arr("complex64", (2, 0, 1)))]


def _state_dict(t):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Linear(2, 2))
    m = t.nn.Sequential(t.nn.Conv2d(2, 3, 3), t.nn.BatchNorm2d(3), t.nn.Linear(2, 2))
    m.load_state_dict({k: t.from_numpy(v.numpy().copy()) for k, v in ref.state_dict().items()})
    return m.state_dict()


CASES = {"dtypes": _dtypes, "scalars_and_empty": _scalars_and_empty, "views": _views, "params": _params,
         "containers": _containers, "state_dict": _state_dict, "tensor": lambda t: t.from_numpy(_arr("float32", (5,)))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ember_file_opens_in_torch(case):
    buf = io.BytesIO()
    ember.save(CASES[case](ember), buf)
    buf.seek(0)
    _check(torch.load(buf, weights_only=True), CASES[case](torch))


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_file_opens_in_ember(case):
    buf = io.BytesIO()
    torch.save(CASES[case](torch), buf)
    buf.seek(0)
    _check(ember.load(buf), CASES[case](torch))


@pytest.mark.parametrize("case", sorted(CASES))
def test_ember_round_trip_and_protocols(case, tmp_path):
    for protocol in (2, 4):
        path = tmp_path / f"{case}{protocol}.pt"
        ember.save(CASES[case](ember), path, pickle_protocol=protocol)
        _check(ember.load(path, weights_only=False), CASES[case](torch))
        torch_file = tmp_path / f"t{case}{protocol}.pt"
        torch.save(CASES[case](torch), torch_file, pickle_protocol=protocol)
        _check(ember.load(torch_file), CASES[case](torch))


_REFUSED_BY_WEIGHTS_ONLY = {
    "frozenset": frozenset({"q", 1}), "np_float64": np.float64(0.9), "np_int64": np.int64(-3),
    "np_bool": np.bool_(True), "np_float32": np.float32(1.5), "np_complex64": np.complex64(1 - 2j),
    "ndarray": np.arange(6, dtype=np.float32).reshape(2, 3), "ndarray_fortran": np.asfortranarray(np.eye(3)),
    "ndarray_empty": np.zeros((0, 4), np.int16), "ndarray_bool": np.array([True, False]),
    "namespace": argparse.Namespace(lr=0.1, name="run", layers=[64, 64]), "range": range(1, 9, 3),
    "slice": slice(2, None, -1)}


@pytest.mark.parametrize("value, writers", [(v, (ember, torch)) for v in _REFUSED_BY_WEIGHTS_ONLY.values()]
                         + [(b"", (torch,))], ids=list(_REFUSED_BY_WEIGHTS_ONLY) + ["empty_bytes"])
def test_values_torch_weights_only_refuses(value, writers):
    def build(t):
        return {"v": value, "t": t.ones(2)}
    for lib in writers:
        buf = io.BytesIO()
        lib.save(build(lib), buf)
        data = buf.getvalue()
        check_raises(lambda t: t.load(io.BytesIO(data), weights_only=True), pickle.UnpicklingError)
        for loader in (ember.load, torch.load):
            _check(loader(io.BytesIO(data), weights_only=False), build(torch))


def test_empty_bytes_written_so_torch_weights_only_reads_them():
    buf = io.BytesIO()
    ember.save({"v": b"", "w": bytearray()}, buf)
    _check(torch.load(io.BytesIO(buf.getvalue()), weights_only=True), {"v": b"", "w": bytearray()})


def test_views_share_one_storage_both_ways():
    buf = io.BytesIO()
    ember.save(_views(ember), buf)
    names = [n for n in zipfile.ZipFile(buf).namelist() if "/data/" in n]
    assert names == ["archive/data/0"]
    buf.seek(0)
    got = torch.load(buf, weights_only=True)
    assert len({_storage_ptr(v) for k, v in got.items() if k != "empty"}) == 1
    got["x"].add_(100)
    assert got["t"][2, 1].item() == 108 and got["expand"][2, 3].item() == 103

    buf = io.BytesIO()
    torch.save(_views(torch), buf)
    buf.seek(0)
    mine = ember.load(buf)
    assert len({_storage_ptr(v) for k, v in mine.items() if k != "empty"}) == 1
    mine["x"].add_(100)
    assert mine["t"][2, 1].item() == 108 and mine["flat"][0].item() == 105


def test_integer_index_is_a_view_written_with_its_base():
    def build(t):
        x = t.from_numpy(np.arange(6.0).reshape(2, 3))
        return {"x": x, "e": x[1, 2]}
    buf = io.BytesIO()
    ember.save(build(ember), buf)
    _check(torch.load(io.BytesIO(buf.getvalue()), weights_only=True), build(torch))


def test_same_tensor_twice_stays_one_object():
    for lib, loader in ((ember, torch.load), (torch, ember.load)):
        x = lib.ones(3)
        buf = io.BytesIO()
        lib.save([x, x, {"again": x}], buf)
        buf.seek(0)
        got = loader(buf)
        assert got[0] is got[1] is got[2]["again"]


def test_views_with_different_dtypes_are_refused():
    def save_two_views(t):
        x = t.ones(4)
        t.save({"f": x, "i": x.view(t.int32)}, io.BytesIO())
    check_raises(save_two_views, RuntimeError, match="view the same data as different types")


def test_tensor_attributes_round_trip():
    def build(t):
        x = t.ones(2)
        x.note = "kept"
        p = t.nn.Parameter(t.zeros(3))
        p.tag = 7
        return [x, p]
    for lib, loader in ((ember, lambda b: torch.load(b, weights_only=True)), (torch, ember.load)):
        buf = io.BytesIO()
        lib.save(build(lib), buf)
        buf.seek(0)
        x, p = loader(buf)
        _check([x, p], build(torch))
        assert x.note == "kept" and p.tag == 7


@settings(max_examples=25, deadline=None)
@given(shape=hst.lists(hst.integers(0, 4), min_size=1, max_size=3), data=hst.data())
def test_random_views_round_trip(shape, data):
    starts = [data.draw(hst.integers(0, n)) for n in shape]
    steps = [data.draw(hst.integers(1, 3)) for _ in shape]
    perm = data.draw(hst.permutations(range(len(shape))))
    base = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)

    def build(t):
        x = t.from_numpy(base.copy())
        return {"x": x, "v": x[tuple(slice(s, None, k) for s, k in zip(starts, steps))].permute(*perm)}
    buf = io.BytesIO()
    ember.save(build(ember), buf)
    buf.seek(0)
    _check(torch.load(buf, weights_only=True), build(torch))
    buf = io.BytesIO()
    torch.save(build(torch), buf)
    buf.seek(0)
    _check(ember.load(buf), build(torch))


# ---------------------------------------------------------------------------------------------------------------------
# Models and optimizers
# ---------------------------------------------------------------------------------------------------------------------
def _convnet(nn):
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4))


def _lstm(nn):
    return nn.LSTM(3, 5, num_layers=2)


@pytest.mark.parametrize("build, shape", [(_convnet, (2, 2, 4, 4)), (_lstm, (4, 2, 3))], ids=["convnet", "lstm"])
def test_state_dict_round_trip_ember_torch_ember(build, shape, tmp_path):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    em = build(ember.nn)
    em(ember.from_numpy(x))  # a training-mode pass moves the BatchNorm statistics
    em.eval()
    ember.save(em.state_dict(), tmp_path / "ember.pt")
    sd = torch.load(tmp_path / "ember.pt", weights_only=True)
    tm = build(torch.nn).eval()
    assert sd._metadata == tm.state_dict()._metadata
    tm.load_state_dict(sd, strict=True)
    torch.save(tm.state_dict(), tmp_path / "torch.pt")
    em2 = build(ember.nn).eval()
    em2.load_state_dict(ember.load(tmp_path / "torch.pt"), strict=True)
    outs = [m(lib.from_numpy(x.copy())) for m, lib in ((em, ember), (tm, torch), (em2, ember))]
    outs = [o[0] if isinstance(o, tuple) else o for o in outs]
    np.testing.assert_allclose(outs[0].detach().numpy(), outs[1].detach().numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_array_equal(outs[2].detach().numpy(), outs[0].detach().numpy())


def test_optimizer_state_moves_between_libraries(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    w, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(2).astype(np.float32)

    def model(lib, weight, bias):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.from_numpy(weight.copy()))
            m.bias.copy_(lib.from_numpy(bias.copy()))
        return m

    def step(lib, m, opt):
        opt.zero_grad()
        (m(lib.from_numpy(x.copy())) ** 2).sum().backward()
        opt.step()

    em = model(ember, w, b)
    eopt = ember.optim.Adam(em.parameters(), lr=0.1)
    step(ember, em, eopt)
    ember.save(eopt.state_dict(), tmp_path / "opt.pt")
    tm = model(torch, em.weight.detach().numpy(), em.bias.detach().numpy())
    topt = torch.optim.Adam(tm.parameters(), lr=0.1)
    topt.load_state_dict(torch.load(tmp_path / "opt.pt", weights_only=True))
    step(ember, em, eopt)
    step(torch, tm, topt)
    np.testing.assert_allclose(em.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-5, atol=1e-6)

    torch.save(topt.state_dict(), tmp_path / "topt.pt")
    em2 = model(ember, tm.weight.detach().numpy(), tm.bias.detach().numpy())
    eopt2 = ember.optim.Adam(em2.parameters(), lr=0.1)
    eopt2.load_state_dict(ember.load(tmp_path / "topt.pt"))
    step(ember, em2, eopt2)
    step(torch, tm, topt)
    np.testing.assert_allclose(em2.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------------
# The file itself: layout, names, alignment, zip64, mmap
# ---------------------------------------------------------------------------------------------------------------------
def _linear_state(t):
    m = t.nn.Linear(3, 2)
    with t.no_grad():
        m.weight.copy_(t.from_numpy(_arr("float32", (2, 3))))
        m.bias.copy_(t.from_numpy(_arr("float32", (2,), 1)))
    return {"model": m.state_dict(), "epoch": 3, "empty": t.empty(0)}


@pytest.mark.parametrize("name", ["ckpt.pt", "a.b.c", "noext", "ü.pt", ".hidden.pt"])
def test_zip_layout_matches_torch(name, tmp_path):
    (tmp_path / "e").mkdir()
    (tmp_path / "t").mkdir()
    ember.save(_linear_state(ember), tmp_path / "e" / name)
    torch.save(_linear_state(torch), tmp_path / "t" / name)
    ze, zt = zipfile.ZipFile(tmp_path / "e" / name), zipfile.ZipFile(tmp_path / "t" / name)
    assert ze.namelist() == zt.namelist()
    raw = (tmp_path / "e" / name).read_bytes()
    for ie, it in zip(ze.infolist(), zt.infolist()):
        assert (ie.header_offset, ie.file_size, ie.compress_type) == (it.header_offset, it.file_size, 0)
        if not ie.filename.endswith("serialization_id"):
            assert ze.read(ie) == zt.read(it), ie.filename
        start = ie.header_offset + 30 + int.from_bytes(raw[ie.header_offset + 26:ie.header_offset + 28], "little") \
            + int.from_bytes(raw[ie.header_offset + 28:ie.header_offset + 30], "little")
        assert start % 64 == 0, f"{ie.filename} data starts at {start}"
    assert len(raw) == (tmp_path / "t" / name).stat().st_size


def test_invalid_file_name_like_torch(tmp_path):
    check_raises(lambda t: t.save(t.ones(1), str(tmp_path / ".pt")), RuntimeError)


def test_zip64_records_are_readable(tmp_path, monkeypatch):
    monkeypatch.setattr(ser, "_ZIP64_LIMIT", 20)  # every record and offset past 20 bytes takes the zip64 path
    ember.save(_views(ember), tmp_path / "z.pt")
    assert zipfile.ZipFile(tmp_path / "z.pt").testzip() is None
    _check(torch.load(tmp_path / "z.pt", weights_only=True), _views(torch))
    _check(ember.load(tmp_path / "z.pt"), _views(torch))


def test_mmap_both_ways(tmp_path, monkeypatch):
    from torch.utils.serialization import config
    monkeypatch.setenv("TORCH_SERIALIZATION_DEBUG", "1")  # torch asserts its computed offsets are the real ones
    ember.save(_dtypes(ember), tmp_path / "e.pt")
    before, config.load.calculate_storage_offsets = config.load.calculate_storage_offsets, True
    try:  # torch derives storage offsets from miniz's exact layout
        _check(torch.load(tmp_path / "e.pt", mmap=True, weights_only=True), _dtypes(torch))
    finally:
        config.load.calculate_storage_offsets = before
    torch.save(_views(torch), tmp_path / "t.pt")
    before = (tmp_path / "t.pt").read_bytes()
    got = ember.load(tmp_path / "t.pt", mmap=True)
    _check(got, _views(torch))
    got["x"].add_(1)  # copy-on-write: the file does not change
    assert (tmp_path / "t.pt").read_bytes() == before
    assert got["t"][0, 0].item() == 1


def test_new_file_permissions_match_torch(tmp_path):
    ember.save(ember.ones(1), tmp_path / "e.pt")
    torch.save(torch.ones(1), tmp_path / "t.pt")
    assert (tmp_path / "e.pt").stat().st_mode == (tmp_path / "t.pt").stat().st_mode


# ---------------------------------------------------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------------------------------------------------
def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(3)}, path)
    before = path.read_bytes()
    written = []
    original = ser._ZipWriter.write_record

    def failing(self, name, data):
        if name.startswith("data/"):
            raise OSError("No space left on device")
        written.append(name)
        return original(self, name, data)
    monkeypatch.setattr(ser._ZipWriter, "write_record", failing)
    with pytest.raises(OSError, match="No space left"):
        ember.save({"w": ember.zeros(5), "v": ember.zeros(2)}, path)
    assert written[:2] == ["data.pkl", ".format_version"]  # it failed midway through the archive
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    monkeypatch.undo()
    _check(torch.load(path, weights_only=True), {"w": torch.ones(3)})


def test_unpicklable_object_keeps_the_old_file(tmp_path):
    check_raises(lambda t: t.save({"f": lambda: 1}, io.BytesIO()), pickle.PicklingError)
    path = tmp_path / "ckpt.pt"
    ember.save([ember.ones(2)], path)
    before = path.read_bytes()
    with pytest.raises(pickle.PicklingError, match="function"):
        ember.save([ember.zeros(2), {"f": lambda: 1}], path)
    with pytest.raises(NotImplementedError, match="Linear"):
        ember.save(ember.nn.Linear(2, 2), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]


def test_save_errors_like_torch(tmp_path):
    check_raises(lambda t: t.save(t.ones(1), str(tmp_path / "missing" / "x.pt")), RuntimeError)
    check_raises(lambda t: t.save(t.ones(1), 3), AttributeError)
    with pytest.raises(RuntimeError, match="Parent directory .*missing does not exist"):
        ember.save(ember.ones(1), tmp_path / "missing" / "x.pt")
    with pytest.raises(NotImplementedError, match="legacy"):
        ember.save(ember.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)


# ---------------------------------------------------------------------------------------------------------------------
# Hand-crafted checkpoints: map_location, bounds, malicious pickles
# ---------------------------------------------------------------------------------------------------------------------
class _Call:
    """Pickles as fn(*args): how a malicious or hand-made checkpoint names a callable."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class _Pid:
    def __init__(self, *pid):
        self.pid = pid


class _CraftPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Pid) else None


def _craft(path, obj, records=None, protocol=2):
    """A torch-style zip checkpoint whose data.pkl is `obj` pickled by Python (persistent ids from _Pid)."""
    buf = io.BytesIO()
    _CraftPickler(buf, protocol=protocol).dump(obj)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        for key, data in (records or {}).items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    return path


def _tensor_call(offset=0, size=(2, 2), stride=(2, 1), location="cpu", numel=4):
    return _Call(torch._utils._rebuild_tensor_v2, _Pid("storage", torch.FloatStorage, "0", location, numel), offset,
                 size, stride, False, OrderedDict())


FOUR = {"0": np.arange(4, dtype=np.float32).tobytes()}


@pytest.mark.parametrize("map_location", ["cpu", "device", "dict", "callable"])
def test_map_location_for_cuda_tagged_storage(map_location, tmp_path):
    path = _craft(tmp_path / "cuda.pt", {"w": _tensor_call(location="cuda:0")}, FOUR)
    check_raises(lambda t: t.load(path, weights_only=True), RuntimeError)
    with pytest.raises(RuntimeError, match="CUDA device but torch.cuda.is_available"):
        ember.load(path)

    def where(t):
        return {"cpu": "cpu", "device": t.device("cpu"), "dict": {"cuda:0": "cpu"},
                "callable": lambda storage, loc: storage}[map_location]
    _check(ember.load(path, map_location=where(ember)), torch.load(path, map_location=where(torch), weights_only=True))


def test_map_location_to_unavailable_device():
    buf = io.BytesIO()
    ember.save(ember.ones(2), buf)
    data = buf.getvalue()
    check_raises(lambda t: t.load(io.BytesIO(data), map_location="cuda:0"), RuntimeError)
    with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
        ember.load(io.BytesIO(data), map_location={"cpu": "cuda:1"})


@pytest.mark.parametrize("layout", [dict(offset=2, size=(3,), stride=(1,)), dict(size=(2, 2), stride=(3, 1)),
                                    dict(numel=1000)], ids=["offset", "stride", "numel"])
def test_out_of_bounds_layouts_are_refused(layout, tmp_path):
    path = _craft(tmp_path / "bad.pt", [_tensor_call(**layout)], FOUR)
    check_raises(lambda t: t.load(path, weights_only=True), RuntimeError)
    with pytest.raises(RuntimeError, match="out of bounds|truncated or corrupt"):
        ember.load(path)


def _evil(marker):
    cmd = f"touch {marker}"
    return {
        "os.system": _Call(os.system, cmd),
        "builtins.eval": _Call(eval, f"open({str(marker)!r}, 'w').close()"),
        "builtins.exec": _Call(exec, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.call": _Call(subprocess.call, ["touch", str(marker)]),
        "nested": {"weights": _tensor_call(), "opt": [1, 2, {"x": _Call(os.system, cmd)}]},
    }


@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.parametrize("kind", ["os.system", "builtins.eval", "builtins.exec", "subprocess.call", "nested"])
def test_malicious_pickle_is_refused_and_nothing_runs(kind, protocol, tmp_path):
    marker = tmp_path / "pwned"
    path = _craft(tmp_path / "evil.pt", _evil(marker)[kind], FOUR, protocol=protocol)
    check_raises(lambda t: t.load(path, weights_only=True), pickle.UnpicklingError)
    name = {"os.system": f"{os.system.__module__}.system", "nested": f"{os.system.__module__}.system",
            "subprocess.call": "subprocess.call"}.get(kind, kind)
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match=name.replace(".", "\\.")):
            ember.load(path, weights_only=weights_only)
    assert not marker.exists()


def test_unsafe_state_and_reduce_targets_are_refused(tmp_path):
    state = _Call(torch._tensor._rebuild_from_type_v2, torch._utils._rebuild_tensor_v2, torch.Tensor,
                  _tensor_call().args, {"_data": 1})
    with pytest.raises(pickle.UnpicklingError, match="refusing to set attribute '_data'"):
        ember.load(_craft(tmp_path / "state.pt", state, FOUR))
    huge = _Call(bytearray, 10 ** 12)  # an allowed callable with an argument that would exhaust memory
    with pytest.raises(pickle.UnpicklingError, match="bytearray"):
        ember.load(_craft(tmp_path / "huge.pt", huge))
    not_storage = _Call(torch._utils._rebuild_tensor_v2, _Pid("module", "os"), 0, (1,), (1,), False, OrderedDict())
    check_raises(lambda t: t.load(_craft(tmp_path / "pid.pt", not_storage), weights_only=True),
                 pickle.UnpicklingError, match="persistent_load of storage")


def test_torch_only_tensor_kinds_raise_not_implemented(tmp_path):
    buf = io.BytesIO()
    torch.save({"bf16": torch.ones(2, dtype=torch.bfloat16)}, buf)
    with pytest.raises(NotImplementedError, match="bfloat16"):
        ember.load(io.BytesIO(buf.getvalue()))
    buf = io.BytesIO()
    torch.save(torch.ones(2, dtype=torch.float8_e4m3fn), buf)
    with pytest.raises(NotImplementedError, match="float8_e4m3fn"):
        ember.load(io.BytesIO(buf.getvalue()))
    buf = io.BytesIO()
    torch.save(torch.ones(2).to_sparse(), buf)
    with pytest.raises(NotImplementedError, match="sparse"):
        ember.load(io.BytesIO(buf.getvalue()))
    buf = io.BytesIO()
    torch.save(torch.ones(3).untyped_storage(), buf)
    with pytest.raises(NotImplementedError, match="bare torch storage"):
        ember.load(io.BytesIO(buf.getvalue()))


def test_conj_and_neg_views_load_as_values():
    z = torch.from_numpy(_arr("complex64", (3,)))
    want = {"conj": z.conj(), "neg": z.conj()._neg_view()}
    buf = io.BytesIO()
    torch.save(want, buf)
    buf.seek(0)
    got = ember.load(buf)
    for k in want:
        np.testing.assert_array_equal(got[k].numpy(), want[k].resolve_conj().resolve_neg().numpy())


def test_legacy_and_torchscript_files_raise_not_implemented(tmp_path):
    torch.save(torch.ones(2), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(NotImplementedError, match="legacy"):
        ember.load(tmp_path / "legacy.pt")
    torch.jit.save(torch.jit.trace(torch.nn.Linear(2, 2), torch.ones(1, 2)), tmp_path / "script.pt")
    with pytest.raises(NotImplementedError, match="TorchScript"):
        ember.load(tmp_path / "script.pt")


def test_load_errors_like_torch(tmp_path):
    buf = io.BytesIO()
    torch.save(torch.ones(2), buf)
    data = buf.getvalue()

    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.inner.readinto(b)

        def seek(self, *args):
            raise io.UnsupportedOperation("seek")

    check_raises(lambda t: t.load(Unseekable()), io.UnsupportedOperation, match="seekable")
    check_raises(lambda t: t.load(io.BytesIO(data), mmap=True), ValueError, match="file path")
    check_raises(lambda t: t.load(io.BytesIO(data), pickle_module=pickle, weights_only=True), RuntimeError,
                 match="explicit pickle_module")
    check_raises(lambda t: t.load(str(tmp_path / "missing.pt")), FileNotFoundError)
    check_raises(lambda t: t.load(io.BytesIO(b"")), EOFError)
    _check(ember.load(io.BytesIO(data), pickle_module=pickle), torch.ones(2))


# ---------------------------------------------------------------------------------------------------------------------
# No torch needed
# ---------------------------------------------------------------------------------------------------------------------
def test_loading_and_saving_without_torch(tmp_path):
    want = {"w": torch.from_numpy(_arr("float32", (3, 4))), "i": torch.arange(5), "p": torch.nn.Parameter(torch.ones(2))}
    want["v"] = want["w"].t()
    torch.save(want, tmp_path / "torch.pt")
    st.save_file({"a": torch.from_numpy(_arr("float64", (2, 2)))}, tmp_path / "t.safetensors")
    np.savez(tmp_path / "ref.npz", w=want["w"].numpy(), i=want["i"].numpy(), a=_arr("float64", (2, 2)))
    code = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None
        sys.modules["safetensors"] = None
        import numpy as np
        import ember, ember.safetensors
        ref = np.load({str(tmp_path / "ref.npz")!r})
        got = ember.load({str(tmp_path / "torch.pt")!r})
        assert type(got["p"]).__name__ == "Parameter" and got["p"].requires_grad
        np.testing.assert_array_equal(got["w"].numpy(), ref["w"])
        np.testing.assert_array_equal(got["v"].numpy(), ref["w"].T)
        np.testing.assert_array_equal(got["i"].numpy(), ref["i"])
        np.testing.assert_array_equal(ember.safetensors.load_file({str(tmp_path / "t.safetensors")!r})["a"].numpy(),
                                      ref["a"])
        w = ember.from_numpy(ref["w"])
        ember.save({{"w": w, "v": w.t(), "i": ember.from_numpy(ref["i"])}}, {str(tmp_path / "ember.pt")!r})
        assert sys.modules["torch"] is None and "ember" in sys.modules
    """)
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = torch.load(tmp_path / "ember.pt", weights_only=True)
    _check(got, {"w": want["w"], "v": want["w"].t(), "i": want["i"]})


# ---------------------------------------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------------------------------------
ST_DTYPES = ["bool", "uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "float32",
             "float64", "complex64"]


def _st_tensors(t):
    out = {f"{d}": t.from_numpy(_arr(d, (2, 3), i)) for i, d in enumerate(ST_DTYPES)}
    out.update(scalar=t.from_numpy(_arr("float64", ())), empty=t.from_numpy(_arr("float32", (0, 3))),
               big=t.from_numpy(_arr("float32", (17, 5))), é=t.ones(1))
    return out


def test_safetensors_bytes_match_the_library():
    meta = {"note": "ünïcode"}  # one key: the library writes several in a random (hash map) order
    assert es.save(_st_tensors(ember), metadata=meta) == st.save(_st_tensors(torch), metadata=meta)
    assert es.save(_st_tensors(ember)) == st.save(_st_tensors(torch))


def test_safetensors_files_both_ways(tmp_path):
    es.save_file(_st_tensors(ember), tmp_path / "e.safetensors", metadata={"k": "v", "format": "pt"})
    _check(dict(sorted(st.load_file(tmp_path / "e.safetensors").items())), dict(sorted(_st_tensors(torch).items())))
    with safetensors.safe_open(tmp_path / "e.safetensors", "pt") as g:
        assert g.metadata() == {"k": "v", "format": "pt"}
    st.save_file(_st_tensors(torch), tmp_path / "t.safetensors", metadata={"k": "v", "format": "pt"})
    _check(dict(sorted(es.load_file(tmp_path / "t.safetensors").items())), dict(sorted(_st_tensors(torch).items())))
    _check(dict(sorted(es.load(st.save(_st_tensors(torch))).items())), dict(sorted(_st_tensors(torch).items())))
    _check(dict(sorted(ember.load(tmp_path / "t.safetensors").items())),
           dict(sorted(torch.load(tmp_path / "t.safetensors").items())))
    with es.safe_open(tmp_path / "t.safetensors") as f, safetensors.safe_open(tmp_path / "t.safetensors", "pt") as g:
        assert f.metadata() == g.metadata() and sorted(f.keys()) == sorted(g.keys())
        _check(f.get_tensor("big"), g.get_tensor("big"))
    loaded = es.load_file(tmp_path / "t.safetensors")
    assert len({_storage_ptr(v) for v in loaded.values()}) == len(loaded)  # each tensor owns its memory


def _st_error_cases():
    def shared(t):
        x = t.ones(4)
        return {"a": x, "b": x[:2]}
    return {
        "shared": (lambda t: shared(t), None, RuntimeError, "share memory"),
        "non_contiguous": (lambda t: {"a": t.ones(4, 2).t()}, None, ValueError, "non contiguous tensor: `a`"),
        "not_tensor": (lambda t: {"a": 1}, None, ValueError, "Key `a` is invalid"),
        "not_dict": (lambda t: [t.ones(1)], None, ValueError, "Expected a dict"),
        "complex128": (lambda t: {"a": t.ones(2, dtype=t.complex128)}, None, KeyError, "complex128"),
        "int_key": (lambda t: {1: t.ones(2)}, None, TypeError, "'int' object is not an instance of 'str'"),
        "metadata_value": (lambda t: {"a": t.ones(2)}, {"k": 1}, TypeError, "'int' object is not an instance of 'str'"),
    }


@pytest.mark.parametrize("case", sorted(_st_error_cases()))
def test_safetensors_save_errors_like_the_library(case):
    build, metadata, exc, match = _st_error_cases()[case]
    with pytest.raises(exc):
        st.save(build(torch), metadata=metadata)
    with pytest.raises(exc, match=match):
        es.save(build(ember), metadata=metadata)


def _tied(nn):
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 4)
            self.head = nn.Linear(4, 5, bias=False)
            self.head.weight = self.emb.weight
    return Tied()


def test_safetensors_save_model_with_tied_weights(tmp_path):
    tm, em = _tied(torch.nn), _tied(ember.nn)
    em.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    st.save_model(tm, tmp_path / "t.safetensors")
    es.save_model(em, tmp_path / "e.safetensors")
    assert (tmp_path / "e.safetensors").read_bytes() == (tmp_path / "t.safetensors").read_bytes()
    tm2, em2 = _tied(torch.nn), _tied(ember.nn)
    assert st.load_model(tm2, tmp_path / "e.safetensors") == (set(), [])
    assert es.load_model(em2, tmp_path / "t.safetensors") == (set(), [])
    assert em2.head.weight is em2.emb.weight
    _check(em2.state_dict(), tm2.state_dict())


def test_safetensors_malformed_files_are_refused():
    good = st.save({"a": torch.ones(3), "b": torch.zeros(2, dtype=torch.int64)})
    n = int.from_bytes(good[:8], "little")
    bad_offsets = good[:8] + good[8:8 + n].replace(b'"data_offsets":[0,16]', b'"data_offsets":[0,15]') + good[8 + n:]
    for data in (b"\x00" * 4, good[:-1], good + b"\x00", bad_offsets, (10 ** 9).to_bytes(8, "little") + b"{}"):
        with pytest.raises(Exception) as lib_err:
            st.load(data)
        assert type(lib_err.value).__name__ == "SafetensorError"
        with pytest.raises(es.SafetensorError, match="Error while deserializing"):
            es.load(data)


# ---- record reading: stored records straight from the file, others through zipfile -----------------------------------
class _ReadOnlyFile:
    """A seekable binary file object without readinto (records then go through zipfile's reader)."""

    def __init__(self, raw):
        self.inner = io.BytesIO(raw)

    def read(self, n=-1):
        return self.inner.read(n)

    def seek(self, pos, whence=0):
        return self.inner.seek(pos, whence)

    def tell(self):
        return self.inner.tell()

    def seekable(self):
        return True


def _recompressed(raw):
    """The same checkpoint with every record deflate-compressed (torch never writes this, zip tools may)."""
    src, out = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return out.getvalue()


@pytest.mark.parametrize("source", ["path", "bytesio", "no readinto", "deflated", "deflated path"])
def test_load_record_sources(source, tmp_path):
    state = {"w": torch.from_numpy(_arr("float32", (300, 70))), "i": torch.arange(5), "e": torch.zeros(0),
             "h": torch.from_numpy(_arr("float64", (4, 3)))[:, 1]}
    buf = io.BytesIO()
    torch.save(state, buf)
    raw = buf.getvalue()
    if source.startswith("deflated"):
        raw = _recompressed(raw)
    path = tmp_path / "ckpt.pt"
    path.write_bytes(raw)
    f = {"bytesio": io.BytesIO(raw), "no readinto": _ReadOnlyFile(raw)}.get(source, str(path))
    _check(ember.load(f), torch.load(io.BytesIO(raw)))


def test_safe_globals_allow_numpy_and_namespace_under_weights_only():
    value = {"best": np.float64(0.5), "arr": np.ones(2), "args": argparse.Namespace(seed=1)}
    buf = io.BytesIO()
    torch.save(value, buf)
    allowed = [np._core.multiarray.scalar, np.dtype, np.ndarray, np._core.multiarray._reconstruct, argparse.Namespace]
    with pytest.raises(pickle.UnpicklingError, match="add_safe_globals"):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=True)
    with ember.serialization.safe_globals(allowed):
        _check(ember.load(io.BytesIO(buf.getvalue()), weights_only=True), value)
    assert ember.serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=True)


class _Config:
    def __init__(self, depth):
        self.depth = depth


def test_user_class_loads_only_when_allowed():
    buf = io.BytesIO()
    torch.save({"cfg": _Config(4), "w": torch.ones(2)}, buf)
    with pytest.raises(pickle.UnpicklingError, match="_Config"):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
    ember.serialization.add_safe_globals([_Config])
    try:
        got = ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
        assert type(got["cfg"]) is _Config and got["cfg"].depth == 4
        assert ember.serialization.get_safe_globals() == [_Config]
    finally:
        ember.serialization.clear_safe_globals()


@pytest.mark.parametrize("value", [np.array([{}, 1], dtype=object), np.array(["a"]), np.zeros(2, ">f4")],
                         ids=["object", "str", "big_endian"])
def test_numpy_arrays_ember_does_not_rebuild(value):
    with pytest.raises(pickle.PicklingError):
        ember.save({"v": value}, io.BytesIO())
    buf = io.BytesIO()
    torch.save({"v": value}, buf)
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
