import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscriptionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_STATE_UNSPECIFIED: _ClassVar[SubscriptionState]
    SUBSCRIPTION_STATE_ACTIVE: _ClassVar[SubscriptionState]
    SUBSCRIPTION_STATE_DISABLED: _ClassVar[SubscriptionState]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_PENDING: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SUCCEEDED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_FAILED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DEAD_LETTERED: _ClassVar[DeliveryStatus]

class InboundProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOUND_PROVIDER_UNSPECIFIED: _ClassVar[InboundProvider]
    INBOUND_PROVIDER_CALCOM: _ClassVar[InboundProvider]
    INBOUND_PROVIDER_RETELL: _ClassVar[InboundProvider]
    INBOUND_PROVIDER_STANDARD_WEBHOOKS: _ClassVar[InboundProvider]

class InboundEventStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOUND_EVENT_STATUS_UNSPECIFIED: _ClassVar[InboundEventStatus]
    INBOUND_EVENT_STATUS_PROCESSED: _ClassVar[InboundEventStatus]
    INBOUND_EVENT_STATUS_REJECTED: _ClassVar[InboundEventStatus]
    INBOUND_EVENT_STATUS_IGNORED: _ClassVar[InboundEventStatus]
SUBSCRIPTION_STATE_UNSPECIFIED: SubscriptionState
SUBSCRIPTION_STATE_ACTIVE: SubscriptionState
SUBSCRIPTION_STATE_DISABLED: SubscriptionState
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_PENDING: DeliveryStatus
DELIVERY_STATUS_SUCCEEDED: DeliveryStatus
DELIVERY_STATUS_FAILED: DeliveryStatus
DELIVERY_STATUS_DEAD_LETTERED: DeliveryStatus
INBOUND_PROVIDER_UNSPECIFIED: InboundProvider
INBOUND_PROVIDER_CALCOM: InboundProvider
INBOUND_PROVIDER_RETELL: InboundProvider
INBOUND_PROVIDER_STANDARD_WEBHOOKS: InboundProvider
INBOUND_EVENT_STATUS_UNSPECIFIED: InboundEventStatus
INBOUND_EVENT_STATUS_PROCESSED: InboundEventStatus
INBOUND_EVENT_STATUS_REJECTED: InboundEventStatus
INBOUND_EVENT_STATUS_IGNORED: InboundEventStatus

class Subscription(_message.Message):
    __slots__ = ("id", "url", "event_types", "description", "state", "disabled_reason", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    description: str
    state: SubscriptionState
    disabled_reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., state: _Optional[_Union[SubscriptionState, str]] = ..., disabled_reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("id", "subscription_id", "event_id", "event_type", "attempt", "status", "http_status", "latency", "error", "attempt_time", "next_attempt_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    attempt: int
    status: DeliveryStatus
    http_status: int
    latency: _duration_pb2.Duration
    error: str
    attempt_time: _timestamp_pb2.Timestamp
    next_attempt_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., attempt: _Optional[int] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., http_status: _Optional[int] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., error: _Optional[str] = ..., attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InboundEndpoint(_message.Message):
    __slots__ = ("id", "provider", "display_name", "path", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    provider: InboundProvider
    display_name: str
    path: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., provider: _Optional[_Union[InboundProvider, str]] = ..., display_name: _Optional[str] = ..., path: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class InboundEvent(_message.Message):
    __slots__ = ("id", "endpoint_id", "provider", "event_key", "event_type", "status", "rejection_reason", "receive_time", "appointment_id", "call_id", "customer_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    EVENT_KEY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    endpoint_id: str
    provider: InboundProvider
    event_key: str
    event_type: str
    status: InboundEventStatus
    rejection_reason: str
    receive_time: _timestamp_pb2.Timestamp
    appointment_id: str
    call_id: str
    customer_id: str
    def __init__(self, id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., provider: _Optional[_Union[InboundProvider, str]] = ..., event_key: _Optional[str] = ..., event_type: _Optional[str] = ..., status: _Optional[_Union[InboundEventStatus, str]] = ..., rejection_reason: _Optional[str] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., appointment_id: _Optional[str] = ..., call_id: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...
