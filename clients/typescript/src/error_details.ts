// The three google.rpc error details the server sends in `grpc-status-details-bin`: ErrorInfo,
// BadRequest and RetryInfo, as protobuf-es v2 message descriptors.
//
// Why they are declared here rather than imported or generated: no package on the npm registry
// ships google/rpc for protobuf-es v2 (Buf's generated SDKs are served only from Buf's own
// registry, which the project's machines and CI cannot reach), and proto/ imports nothing from
// google/rpc, so clients/generate.sh has nothing to generate them from. These messages have been
// stable for years; the declarations below copy the names, numbers and types of the fields this
// client reads from google/rpc/error_details.proto, and fields left out are skipped as unknown.

import { create, createFileRegistry, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  type Duration,
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
} from "@bufbuild/protobuf/wkt";

/** google.rpc.ErrorInfo: why the call failed (`reason`, e.g. "SLOT_TAKEN") and its context. */
export type ErrorInfo = Message<"google.rpc.ErrorInfo"> & {
  reason: string;
  domain: string;
  metadata: { [key: string]: string };
};

/** google.rpc.RetryInfo: how long to wait before trying again. */
export type RetryInfo = Message<"google.rpc.RetryInfo"> & {
  retryDelay?: Duration;
};

/** google.rpc.BadRequest.FieldViolation: one invalid request field. */
export type BadRequest_FieldViolation = Message<"google.rpc.BadRequest.FieldViolation"> & {
  field: string;
  description: string;
  reason: string;
};

/** google.rpc.BadRequest: every invalid field of a request. */
export type BadRequest = Message<"google.rpc.BadRequest"> & {
  fieldViolations: BadRequest_FieldViolation[];
};

type FieldSpec = [name: string, number: number, type: Type, label?: Label, typeName?: string];

interface MessageExtras {
  nestedType?: DescriptorProto[];
  mapEntry?: boolean;
}

function message(name: string, fields: FieldSpec[], { nestedType = [], mapEntry = false }: MessageExtras = {}) {
  return create(DescriptorProtoSchema, {
    name,
    field: fields.map(([fieldName, number, type, label = Label.OPTIONAL, typeName]) =>
      create(FieldDescriptorProtoSchema, { name: fieldName, number, type, label, ...(typeName ? { typeName } : {}) }),
    ),
    nestedType,
    ...(mapEntry ? { options: { mapEntry } } : {}),
  });
}

const errorDetailsFile = create(FileDescriptorProtoSchema, {
  name: "google/rpc/error_details.proto",
  package: "google.rpc",
  dependency: ["google/protobuf/duration.proto"],
  syntax: "proto3",
  messageType: [
    message("ErrorInfo", [
      ["reason", 1, Type.STRING],
      ["domain", 2, Type.STRING],
      ["metadata", 3, Type.MESSAGE, Label.REPEATED, ".google.rpc.ErrorInfo.MetadataEntry"],
    ], {
      // A proto map is a repeated nested entry message marked map_entry.
      nestedType: [
        message("MetadataEntry", [["key", 1, Type.STRING], ["value", 2, Type.STRING]], { mapEntry: true }),
      ],
    }),
    message("RetryInfo", [
      ["retry_delay", 1, Type.MESSAGE, Label.OPTIONAL, ".google.protobuf.Duration"],
    ]),
    message("BadRequest", [
      ["field_violations", 1, Type.MESSAGE, Label.REPEATED, ".google.rpc.BadRequest.FieldViolation"],
    ], {
      nestedType: [
        message("FieldViolation", [
          ["field", 1, Type.STRING],
          ["description", 2, Type.STRING],
          ["reason", 3, Type.STRING],
        ]),
      ],
    }),
  ],
});

const registry = createFileRegistry(errorDetailsFile, (file) =>
  file === "google/protobuf/duration.proto" ? file_google_protobuf_duration : undefined,
);

function messageSchema<T extends Message>(typeName: string): GenMessage<T> {
  const desc = registry.getMessage(typeName);
  if (desc === undefined) {
    throw new Error(`${typeName} is missing from the google.rpc descriptors`);
  }
  return desc as GenMessage<T>;
}

export const ErrorInfoSchema = messageSchema<ErrorInfo>("google.rpc.ErrorInfo");
export const RetryInfoSchema = messageSchema<RetryInfo>("google.rpc.RetryInfo");
export const BadRequestSchema = messageSchema<BadRequest>("google.rpc.BadRequest");
