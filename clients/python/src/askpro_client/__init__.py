"""AskPro client: generated grpcio stubs (askpro_client._gen) and a small convenience layer.

    from askpro_client import connect, availability_pb2
    client = connect("127.0.0.1:50051", api_key)
"""

from ._gen.askpro.appointment.v1 import appointment_service_pb2 as appointment_pb2
from ._gen.askpro.appointment.v1 import resources_pb2 as appointment_resources_pb2
from ._gen.askpro.availability.v1 import availability_service_pb2 as availability_pb2
from ._gen.askpro.availability.v1 import resources_pb2 as availability_resources_pb2
from ._gen.askpro.integration.v1 import integration_service_pb2 as integration_pb2
from ._gen.askpro.integration.v1 import resources_pb2 as integration_resources_pb2
from ._gen.askpro.tenant.v1 import resources_pb2 as tenant_resources_pb2
from ._gen.askpro.tenant.v1 import tenant_service_pb2 as tenant_pb2
from ._gen.askpro.type.v1 import types_pb2
from ._gen.askpro.webhook.v1 import resources_pb2 as webhook_resources_pb2
from ._gen.askpro.webhook.v1 import webhook_service_pb2 as webhook_pb2
from .client import AskProClient, connect
from .errors import (
    Aborted,
    AlreadyExists,
    Alternative,
    AskProError,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    SlotTaken,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "AskProClient",
    "connect",
    "appointment_pb2",
    "appointment_resources_pb2",
    "availability_pb2",
    "availability_resources_pb2",
    "integration_pb2",
    "integration_resources_pb2",
    "tenant_pb2",
    "tenant_resources_pb2",
    "types_pb2",
    "webhook_pb2",
    "webhook_resources_pb2",
    "AskProError",
    "Aborted",
    "AlreadyExists",
    "Alternative",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "SlotTaken",
    "Unauthenticated",
    "Unavailable",
]
