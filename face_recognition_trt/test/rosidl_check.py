"""Run by a Python that has ROS 2's own IDL tools (Debian: python3-rosidl, python3-empy): translate
every .msg/.srv of the interfaces package to IDL and parse it, as `rosidl_generate_interfaces`
does first, and print the fields it found as JSON. Used by test_ros_packaging.py."""

import json
import sys
import tempfile
from pathlib import Path

from rosidl_adapter.msg import convert_msg_to_idl
from rosidl_adapter.srv import convert_srv_to_idl
from rosidl_parser.definition import IdlLocator, Message, Service
from rosidl_parser.parser import parse_idl_file


def members(structure):
    return [[m.name, type(m.type).__name__] for m in structure.members]


package = Path(sys.argv[1]).resolve()
found = {}
with tempfile.TemporaryDirectory() as out:
    out = Path(out)
    for path in sorted(package.glob("*/*.*")):
        if path.suffix not in (".msg", ".srv"):
            continue
        convert = convert_msg_to_idl if path.suffix == ".msg" else convert_srv_to_idl
        idl = convert(package, package.name, path.relative_to(package), out / path.parent.name)
        for element in parse_idl_file(IdlLocator(out, idl.relative_to(out))).content.elements:
            if isinstance(element, Message):
                found[element.structure.namespaced_type.name] = members(element.structure)
            elif isinstance(element, Service):
                name = element.namespaced_type.name
                found[name + "_Request"] = members(element.request_message.structure)
                found[name + "_Response"] = members(element.response_message.structure)
print("RESULT " + json.dumps(found))
