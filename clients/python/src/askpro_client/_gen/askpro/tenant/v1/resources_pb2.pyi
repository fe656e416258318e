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

class CallerDisclosure(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALLER_DISCLOSURE_UNSPECIFIED: _ClassVar[CallerDisclosure]
    CALLER_DISCLOSURE_FULL: _ClassVar[CallerDisclosure]
    CALLER_DISCLOSURE_FIRST_NAME_AND_DAY: _ClassVar[CallerDisclosure]
    CALLER_DISCLOSURE_NONE: _ClassVar[CallerDisclosure]

class ApiKeyScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    API_KEY_SCOPE_UNSPECIFIED: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_PLATFORM_ADMIN: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_TENANT_ADMIN: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_AGENT: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_READ_ONLY: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_CALL: _ClassVar[ApiKeyScope]
CALLER_DISCLOSURE_UNSPECIFIED: CallerDisclosure
CALLER_DISCLOSURE_FULL: CallerDisclosure
CALLER_DISCLOSURE_FIRST_NAME_AND_DAY: CallerDisclosure
CALLER_DISCLOSURE_NONE: CallerDisclosure
API_KEY_SCOPE_UNSPECIFIED: ApiKeyScope
API_KEY_SCOPE_PLATFORM_ADMIN: ApiKeyScope
API_KEY_SCOPE_TENANT_ADMIN: ApiKeyScope
API_KEY_SCOPE_AGENT: ApiKeyScope
API_KEY_SCOPE_READ_ONLY: ApiKeyScope
API_KEY_SCOPE_CALL: ApiKeyScope

class Tenant(_message.Message):
    __slots__ = ("id", "display_name", "time_zone", "region_code", "create_time", "update_time", "etag", "allow_overlapping_customer_appointments", "caller_disclosure")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ALLOW_OVERLAPPING_CUSTOMER_APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    CALLER_DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    time_zone: str
    region_code: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    allow_overlapping_customer_appointments: bool
    caller_disclosure: CallerDisclosure
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., time_zone: _Optional[str] = ..., region_code: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., allow_overlapping_customer_appointments: _Optional[bool] = ..., caller_disclosure: _Optional[_Union[CallerDisclosure, str]] = ...) -> None: ...

class Branch(_message.Message):
    __slots__ = ("id", "display_name", "time_zone", "region_code", "phone_numbers", "address", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    PHONE_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    time_zone: str
    region_code: str
    phone_numbers: _containers.RepeatedScalarFieldContainer[str]
    address: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., time_zone: _Optional[str] = ..., region_code: _Optional[str] = ..., phone_numbers: _Optional[_Iterable[str]] = ..., address: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Staff(_message.Message):
    __slots__ = ("id", "branch_id", "display_name", "email", "service_ids", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    branch_id: str
    display_name: str
    email: str
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., branch_id: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., service_ids: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Service(_message.Message):
    __slots__ = ("id", "display_name", "description", "duration", "buffer_before", "buffer_after", "minimum_notice", "booking_horizon", "slot_step", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    BUFFER_BEFORE_FIELD_NUMBER: _ClassVar[int]
    BUFFER_AFTER_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_NOTICE_FIELD_NUMBER: _ClassVar[int]
    BOOKING_HORIZON_FIELD_NUMBER: _ClassVar[int]
    SLOT_STEP_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    description: str
    duration: _duration_pb2.Duration
    buffer_before: _duration_pb2.Duration
    buffer_after: _duration_pb2.Duration
    minimum_notice: _duration_pb2.Duration
    booking_horizon: _duration_pb2.Duration
    slot_step: _duration_pb2.Duration
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., buffer_before: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., buffer_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., minimum_notice: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., booking_horizon: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., slot_step: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("id", "display_name", "scope", "key_prefix", "expire_time", "revoke_time", "create_time", "last_use_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_USE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    scope: ApiKeyScope
    key_prefix: str
    expire_time: _timestamp_pb2.Timestamp
    revoke_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    last_use_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., scope: _Optional[_Union[ApiKeyScope, str]] = ..., key_prefix: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_use_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
