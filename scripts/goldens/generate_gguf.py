#!/usr/bin/env python3
"""Goldens for Attend's GGUF reader: a small GGUF file written with llama.cpp's own `gguf` package
(gguf-py's GGUFWriter) holding metadata of every GGUF value type and tensors of types F32, F16,
BF16, Q8_0, Q4_0 and Q4_1, plus a JSON description of it as gguf-py reads it back.

    venv/bin/pip install gguf          # gguf-py, the package llama.cpp's converters use
    venv/bin/python scripts/goldens/generate_gguf.py

Writes Tests/AttendTests/Goldens/gguf/
    all-types.gguf   the file (GGUF v3, little endian, general.alignment = 64, not the default 32)
    all-types.json   version, alignment, tensor-data start; every metadata key with its GGUF type name
                     and value; every tensor's name, type, shape in GGUF order (ne[0] first) and in
                     numpy (row-major) order, offset relative to the tensor-data start and absolute
                     in the file, byte count, and its values dequantized by gguf.quants.dequantize as
                     float32 bit patterns (8 hex digits each, so comparisons are bit exact)
    k-quants.gguf/.json  the same for Q4_K and Q6_K. gguf-py cannot quantize these (it only
                     dequantizes them), so their blocks are random bytes with sane f16 super-block
                     scales; the reference is gguf-py's dequantization of those bytes. A separate
                     file so that a reader without K-quants can still read all-types.gguf.

Metadata values in the JSON: integers as JSON numbers (64-bit ones also as decimal strings in
"text", since they may exceed 2^53); floats as JSON numbers that round-trip (repr) plus "bits" (hex
of the IEEE bits: 8 digits for float32, 16 for float64); arrays as {"element_type": ..., "value":
[...]}, nested arrays recursively.
"""
import json
import pathlib
import struct

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from gguf.quants import dequantize, quantize

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/gguf"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(20240607)
ALIGNMENT = 64


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


# --- metadata: (key, value, type, element type for arrays) ---------------------------------------
metadata = [
    ("test.uint8", 200, V.UINT8, None),
    ("test.int8", -100, V.INT8, None),
    ("test.uint16", 65000, V.UINT16, None),
    ("test.int16", -32000, V.INT16, None),
    ("test.uint32", 4_000_000_000, V.UINT32, None),
    ("test.int32", -2_000_000_000, V.INT32, None),
    ("test.float32", 1e-5, V.FLOAT32, None),            # not exactly representable: stored rounded
    ("test.float32_negative", -123456.789, V.FLOAT32, None),
    ("test.bool_true", True, V.BOOL, None),
    ("test.bool_false", False, V.BOOL, None),
    ("test.string", "héllo, wörld — 日本語 🦙\n\ttab", V.STRING, None),
    ("test.string_empty", "", V.STRING, None),
    ("test.uint64", 18_000_000_000_000_000_001, V.UINT64, None),   # > 2^63 and > 2^53
    ("test.int64", -9_000_000_000_000_000_007, V.INT64, None),
    ("test.float64", 0.1, V.FLOAT64, None),
    ("test.float64_big", 1.7976931348623157e308, V.FLOAT64, None),
    ("test.array_int32", [1, -2, 3, 2_147_483_647, -2_147_483_648], V.ARRAY, V.INT32),
    ("test.array_uint8", [0, 1, 127, 128, 255], V.ARRAY, V.UINT8),
    ("test.array_int64", [-1, 9_007_199_254_740_993], V.ARRAY, V.INT64),
    ("test.array_float32", [0.5, -1.25, 3.4028234663852886e38, 1e-40], V.ARRAY, V.FLOAT32),
    ("test.array_bool", [True, False, True], V.ARRAY, V.BOOL),
    ("test.array_string", ["a", "", "<|im_start|>", "Ġthe", "ü 日本"], V.ARRAY, V.STRING),
    ("test.array_nested", [[1, 2, 3], [-4], [5, 6]], V.ARRAY, V.ARRAY),            # inner: int32
    ("test.array_nested_strings", [["x", "yz"], ["ñ"]], V.ARRAY, V.ARRAY),     # inner: string
]


def element_type(values):
    # What gguf-py's writer infers for an inner (nested) array: see GGUFValueType.get_type.
    return V.INT32 if not values else V.get_type(values[0])


def describe(value, vtype, sub=None):
    if vtype == V.ARRAY:
        sub = sub if sub is not None else element_type(value)
        if sub == V.ARRAY:
            items = [describe(v, V.ARRAY) for v in value]
        else:
            items = [describe(v, sub)["value"] if sub not in (V.UINT64, V.INT64, V.FLOAT32, V.FLOAT64)
                     else describe(v, sub) for v in value]
        return {"type": "ARRAY", "element_type": sub.name, "value": items}
    if vtype == V.FLOAT32:
        r = float(np.float32(value))
        return {"type": "FLOAT32", "value": r, "bits": f"{f32_bits(r):08x}"}
    if vtype == V.FLOAT64:
        return {"type": "FLOAT64", "value": value, "bits": f"{f64_bits(value):016x}"}
    if vtype in (V.UINT64, V.INT64):
        return {"type": vtype.name, "value": value, "text": str(value)}
    return {"type": vtype.name, "value": value}


# --- tensors: (name, numpy-order array, type) ----------------------------------------------------
def normal(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


f32 = normal(37)
f32[[0, 1, 2, 3, 4, 5, 6]] = [0.0, -0.0, 3.0e38, -1.0e30, 1.0e-45, -2.5e-39, np.inf]
f32[7] = -np.inf
f16 = normal(5, 7, scale=4)
f16[0, :5] = [0.0, -0.0, 65504.0, -65504.0, 6.0e-8]
bf16 = normal(2, 3, 16, scale=2)
bf16[0, 0, :4] = [0.0, -1.0e30, 3.0e38, 1.0e-38]
q8 = normal(3, 64)
q8[1, :32] = 0.0                               # an all-zero block: scale 0
q8[2, 32:] *= 1000.0                           # a block of large magnitude
q8_3d = normal(2, 2, 64, scale=0.1)
q4_0 = normal(2, 96)
q4_0[0, 32:64] = 0.0
q4_0[1, 64:96] = np.linspace(-7, 8, 32)
q4_1 = normal(4, 32, scale=3)
q4_1[1] = 0.0                                  # all zeros: d = 0, m = 0
q4_1[2] = 1.5                                  # constant: d = 0, m = 1.5
q4_1[3] = np.abs(q4_1[3]) + 100                # all positive, large offset

tensors = [
    ("f32.1d", f32, Q.F32),
    ("f16.5x7", f16, Q.F16),
    ("bf16.3d", bf16, Q.BF16),
    ("q8_0.3x64", q8, Q.Q8_0),
    ("q8_0.3d", q8_3d, Q.Q8_0),
    ("q4_0.2x96", q4_0, Q.Q4_0),
    ("q4_1.4x32", q4_1, Q.Q4_1),
    ("q4_1.1d", normal(64, scale=0.02), Q.Q4_1),
]


def write(path, metadata, tensors, raw=()):
    w = gguf.GGUFWriter(str(path), arch="attend-test")
    w.add_custom_alignment(ALIGNMENT)
    w.add_name("Attend GGUF golden")
    for key, value, vtype, sub in metadata:
        w.add_key_value(key, value, vtype, sub_type=sub)
    for name, array, qtype in tensors:
        if qtype == Q.F32:
            w.add_tensor(name, array.astype(np.float32))
        elif qtype == Q.F16:
            w.add_tensor(name, array.astype(np.float16))
        else:
            w.add_tensor(name, quantize(array, qtype), raw_dtype=qtype)
    for name, blocks, shape, qtype in raw:                  # pre-built blocks (uint8), numpy shape
        w.add_tensor(name, blocks, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def field_value(reader, key):
    f = reader.fields[key]
    return f.contents()


def document(path, metadata, expected_types):
    reader = gguf.GGUFReader(str(path))
    version = int(reader.fields["GGUF.version"].contents())
    keys = []
    declared = {k: (v, t, s) for k, v, t, s in metadata}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        if key in declared:
            value, vtype, sub = declared[key]
            entry = describe(value, vtype, sub)
            if not (vtype == V.ARRAY and sub == V.ARRAY):    # gguf-py's reader can't decode nested arrays
                got = field.contents()
                want = entry["value"]
                if vtype == V.ARRAY:
                    want = [x["value"] if isinstance(x, dict) else x for x in want]
                    if sub == V.FLOAT32:
                        got = [float(np.float32(x)) for x in got]
                assert got == want, (key, got, want)
                assert field.types[0] == vtype, (key, field.types)
        else:                                                # written by GGUFWriter itself
            vtype = field.types[0]
            value = field.contents()
            entry = describe(value, vtype, field.types[-1] if vtype == V.ARRAY else None)
        keys.append({"key": key, **entry})
    out_tensors = []
    for t in reader.tensors:
        qtype = Q(t.tensor_type)
        assert qtype == expected_types[t.name]
        values = dequantize(t.data, qtype).astype(np.float32)
        ne = [int(x) for x in t.shape]
        assert list(values.shape) == ne[::-1], (t.name, values.shape, ne)
        out_tensors.append({
            "name": t.name,
            "type": qtype.name,
            "type_id": int(qtype),
            "shape_gguf": ne,
            "shape_numpy": ne[::-1],
            "offset": int(t.data_offset - reader.data_offset),
            "file_offset": int(t.data_offset),
            "n_bytes": int(t.n_bytes),
            "n_elements": int(t.n_elements),
            "values_f32_hex": [f"{v:08x}" for v in values.reshape(-1).view(np.uint32).tolist()],
        })
    alignment = int(reader.fields["general.alignment"].contents())
    assert alignment == ALIGNMENT
    return {
        "generator": "scripts/goldens/generate_gguf.py",
        "gguf_py": getattr(gguf, "__version__", None) or _gguf_version(),
        "file": path.name,
        "file_bytes": path.stat().st_size,
        "version": version,
        "alignment": alignment,
        "tensor_data_offset": int(reader.data_offset),
        "metadata_count": len(keys),
        "metadata": keys,
        "tensor_count": len(out_tensors),
        "tensors": out_tensors,
    }


def _gguf_version():
    from importlib.metadata import version
    return version("gguf")


def parse_independently(path):
    """A minimal GGUF metadata parser, independent of gguf-py, to check the file against the JSON."""
    data = path.read_bytes()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    fmts = {V.UINT8: "B", V.INT8: "b", V.UINT16: "H", V.INT16: "h", V.UINT32: "I", V.INT32: "i",
            V.FLOAT32: "f", V.BOOL: "?", V.UINT64: "Q", V.INT64: "q", V.FLOAT64: "d"}

    def value(t):
        nonlocal pos
        t = V(t)
        if t == V.STRING:
            n = take("Q")
            pos += n
            return {"type": "STRING", "value": data[pos - n:pos].decode("utf-8")}
        if t == V.ARRAY:
            et, n = V(take("I")), take("Q")
            items = [value(et) for _ in range(n)]
            if et not in (V.ARRAY, V.UINT64, V.INT64, V.FLOAT32, V.FLOAT64):
                items = [x["value"] for x in items]
            return {"type": "ARRAY", "element_type": et.name, "value": items}
        v = take(fmts[t])
        if t == V.FLOAT32:
            return {"type": "FLOAT32", "value": v, "bits": f"{f32_bits(v):08x}"}
        if t == V.FLOAT64:
            return {"type": "FLOAT64", "value": v, "bits": f"{f64_bits(v):016x}"}
        if t in (V.UINT64, V.INT64):
            return {"type": t.name, "value": v, "text": str(v)}
        return {"type": t.name, "value": v}

    assert data[:4] == b"GGUF"
    pos = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    keys = []
    for _ in range(n_kv):
        n = take("Q")
        pos += n
        key = data[pos - n:pos].decode()
        keys.append({"key": key, **value(take("I"))})
    return version, n_tensors, keys


path = OUT / "all-types.gguf"
write(path, metadata, tensors)
doc = document(path, metadata, {n: q for n, _, q in tensors})
version, n_tensors, parsed = parse_independently(path)
assert (version, n_tensors) == (doc["version"], doc["tensor_count"])
assert json.dumps(parsed) == json.dumps(doc["metadata"]), "independent parse disagrees"
# The reference values for the float types, independently of gguf-py's dequantize:
by_name = {t["name"]: t for t in doc["tensors"]}
for name, array, qtype in tensors:
    got = np.array([int(h, 16) for h in by_name[name]["values_f32_hex"]], dtype=np.uint32).view(np.float32)
    if qtype == Q.F32:
        assert np.array_equal(got.view(np.uint32), array.reshape(-1).view(np.uint32))
    elif qtype == Q.F16:
        assert np.array_equal(got, array.reshape(-1).astype(np.float16).astype(np.float32))
    else:
        finite = np.isfinite(array).all()
        assert finite
(OUT / "all-types.json").write_text(json.dumps(doc, ensure_ascii=False, indent=0))
print(f"wrote {path} ({path.stat().st_size} bytes): {len(doc['metadata'])} keys, {len(doc['tensors'])} tensors")


# --- K-quants: random blocks (gguf-py can dequantize but not quantize them) -----------------------
def random_blocks(qtype, rows, cols):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n = rows * cols // block
    b = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    d = (rng.standard_normal(n) * 0.01).astype(np.float16).view(np.uint8).reshape(n, 2)
    if qtype == Q.Q4_K:        # d, dmin (f16) first, then 12 bytes of 6-bit scales/mins, 128 of nibbles
        dmin = (np.abs(rng.standard_normal(n)) * 0.01).astype(np.float16).view(np.uint8).reshape(n, 2)
        b[:, 0:2] = d
        b[:, 2:4] = dmin
    elif qtype == Q.Q6_K:      # 128 ql, 64 qh, 16 int8 scales, then d (f16) last
        b[:, -2:] = d
    return b.reshape(rows, cols // block * size)


kq = [("q4_k.2x256", random_blocks(Q.Q4_K, 2, 256), (2, 256), Q.Q4_K),
      ("q6_k.3x256", random_blocks(Q.Q6_K, 3, 256), (3, 256), Q.Q6_K),
      ("q4_k.1d", random_blocks(Q.Q4_K, 1, 512)[0], (512,), Q.Q4_K)]
kpath = OUT / "k-quants.gguf"
write(kpath, [("test.note", "Q4_K/Q6_K blocks are random bytes with small f16 scales", V.STRING, None)], [], kq)
kdoc = document(kpath, [("test.note", "Q4_K/Q6_K blocks are random bytes with small f16 scales", V.STRING, None)],
                {n: q for n, _, _, q in kq})
for t in kdoc["tensors"]:
    vals = np.array([int(h, 16) for h in t["values_f32_hex"]], dtype=np.uint32).view(np.float32)
    assert np.isfinite(vals).all(), t["name"]
(OUT / "k-quants.json").write_text(json.dumps(kdoc, ensure_ascii=False, indent=0))
print(f"wrote {kpath} ({kpath.stat().st_size} bytes): {len(kdoc['tensors'])} tensors")
