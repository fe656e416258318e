#!/usr/bin/env python3
"""The `grpc_python` protoc plugin, for `buf generate`.

grpcio-tools ships the gRPC Python generator only inside its embedded protoc
(`--grpc_python_out`), not as a `protoc-gen-grpc_python` program that buf could
run, and the generator is not published anywhere else on PyPI. This adapter is
that program: it hands the descriptors buf sends to the embedded protoc and
returns the files it writes, so the generated code is byte for byte what
`python -m grpc_tools.protoc --grpc_python_out` produces.
"""
import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse(
        # The embedded protoc parses the descriptors itself; proto3 `optional`
        # needs nothing from the gRPC generator.
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL,
    )
    with tempfile.TemporaryDirectory() as scratch:
        descriptors = os.path.join(scratch, "descriptors.binpb")
        with open(descriptors, "wb") as out:
            out.write(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())
        written = os.path.join(scratch, "out")
        os.mkdir(written)
        arguments = ["protoc", f"--descriptor_set_in={descriptors}", f"--grpc_python_out={written}"]
        if request.parameter:
            arguments.append(f"--grpc_python_opt={request.parameter}")
        arguments.extend(request.file_to_generate)
        if protoc.main(arguments) != 0:
            response.error = "grpc_tools.protoc failed (its message is above)"
            return response
        for directory, _, names in os.walk(written):
            for name in sorted(names):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as generated:
                    response.file.add(name=os.path.relpath(path, written), content=generated.read())
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
