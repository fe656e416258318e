// @askpro/client: the AskPro API for TypeScript, for any connect-es transport. `./node` (gRPC over
// HTTP/2) and `./web` (grpc-web over fetch) add `connectNode` and `connectWeb` and re-export all
// of this, so an application imports from one of them only.

export { type AskProClient, type ClientOptions, createAskProClient } from "./client.js";
export { type InterceptorOptions, askProInterceptors } from "./interceptors.js";
export {
  Aborted,
  AlreadyExists,
  type Alternative,
  AskProError,
  type AskProErrorDetails,
  DeadlineExceeded,
  FailedPrecondition,
  type FieldViolation,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  RateLimited,
  SlotTaken,
  Unauthenticated,
  Unavailable,
  toAskProError,
} from "./errors.js";

// connect-es's status codes and the protobuf-es helpers a booking needs (messages are created
// with `create(Schema, init)`, or passed to calls as plain objects; times are Timestamps).
export { Code, ConnectError } from "@connectrpc/connect";
export { create } from "@bufbuild/protobuf";
export { type Duration, type Timestamp, durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";

// The generated messages, enums and service descriptors of proto/ (src/gen, from clients/generate.sh).
export * from "./gen/askpro/type/v1/types_pb.js";
export * from "./gen/askpro/tenant/v1/resources_pb.js";
export * from "./gen/askpro/tenant/v1/tenant_service_pb.js";
export * from "./gen/askpro/availability/v1/resources_pb.js";
export * from "./gen/askpro/availability/v1/availability_service_pb.js";
export * from "./gen/askpro/appointment/v1/resources_pb.js";
export * from "./gen/askpro/appointment/v1/appointment_service_pb.js";
export * from "./gen/askpro/webhook/v1/resources_pb.js";
export * from "./gen/askpro/webhook/v1/webhook_service_pb.js";
export * from "./gen/askpro/integration/v1/resources_pb.js";
export * from "./gen/askpro/integration/v1/integration_service_pb.js";
