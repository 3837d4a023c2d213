"""Read the constants (the weights) out of a frozen TensorFlow graph (GraphDef).

TensorFlow (hundreds of MB) and tf2onnx (which needs TensorFlow) were passed over to read one file at
fetch time. The file is a protobuf message, so the protobuf library parses it; this module only
declares the handful of GraphDef fields that are needed. The field numbers are those of TensorFlow's
`graph.proto`, `node_def.proto`, `attr_value.proto`, `tensor.proto` and `tensor_shape.proto`;
every other field is skipped by protobuf as unknown.
"""

from __future__ import annotations

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

_Field = descriptor_pb2.FieldDescriptorProto
_ONE, _MANY = _Field.LABEL_OPTIONAL, _Field.LABEL_REPEATED
# TensorFlow DataType enum values (types.proto) that a frozen FaceNet graph uses for constants.
_DTYPES = {1: np.float32, 3: np.int32, 9: np.int64}


def _message(file: descriptor_pb2.FileDescriptorProto | descriptor_pb2.DescriptorProto, name: str, fields):
    msg = (file.message_type if isinstance(file, descriptor_pb2.FileDescriptorProto) else file.nested_type).add()
    msg.name = name
    for field_name, number, kind, label, type_name in fields:
        field = msg.field.add(name=field_name, number=number, type=kind, label=label)
        if type_name:
            field.type_name = type_name
    return msg


def _graph_def_class():
    f = descriptor_pb2.FileDescriptorProto(name="frt_tf_graph_subset.proto", package="frt", syntax="proto3")
    T = _Field
    shape = _message(f, "TensorShapeProto", [("dim", 2, T.TYPE_MESSAGE, _MANY, ".frt.TensorShapeProto.Dim")])
    _message(shape, "Dim", [("size", 1, T.TYPE_INT64, _ONE, None)])
    _message(
        f,
        "TensorProto",
        [
            ("dtype", 1, T.TYPE_INT32, _ONE, None),
            ("tensor_shape", 2, T.TYPE_MESSAGE, _ONE, ".frt.TensorShapeProto"),
            ("tensor_content", 4, T.TYPE_BYTES, _ONE, None),
            ("float_val", 5, T.TYPE_FLOAT, _MANY, None),
            ("int_val", 7, T.TYPE_INT32, _MANY, None),
        ],
    )
    _message(f, "AttrValue", [("tensor", 8, T.TYPE_MESSAGE, _ONE, ".frt.TensorProto")])
    node = _message(
        f,
        "NodeDef",
        [
            ("name", 1, T.TYPE_STRING, _ONE, None),
            ("op", 2, T.TYPE_STRING, _ONE, None),
            ("attr", 5, T.TYPE_MESSAGE, _MANY, ".frt.NodeDef.AttrEntry"),
        ],
    )
    entry = _message(
        node, "AttrEntry", [("key", 1, T.TYPE_STRING, _ONE, None), ("value", 2, T.TYPE_MESSAGE, _ONE, ".frt.AttrValue")]
    )
    entry.options.map_entry = True
    _message(f, "GraphDef", [("node", 1, T.TYPE_MESSAGE, _MANY, ".frt.NodeDef")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("frt.GraphDef"))


def _tensor(t) -> np.ndarray:
    if t.dtype not in _DTYPES:
        raise ValueError(f"unsupported constant dtype {t.dtype}")
    dtype = _DTYPES[t.dtype]
    shape = [d.size for d in t.tensor_shape.dim]
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, dtype).reshape(shape).copy()
    values = np.asarray(t.float_val if dtype == np.float32 else t.int_val, dtype)
    if values.size == 1:  # TensorFlow stores a constant fill as one value
        return np.full(shape, values[0], dtype)
    return values.reshape(shape)


def read_constants(data: bytes) -> dict[str, np.ndarray]:
    """Every Const node of a serialised GraphDef, by name."""
    graph = _graph_def_class()()
    try:
        graph.ParseFromString(data)
    except DecodeError as exc:
        raise ValueError(f"not a TensorFlow GraphDef ({exc})") from exc
    if not graph.node:
        raise ValueError("not a TensorFlow GraphDef (no operations)")
    return {n.name: _tensor(n.attr["value"].tensor) for n in graph.node if n.op == "Const"}
