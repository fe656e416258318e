import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREAKER_STATE_UNSPECIFIED: _ClassVar[BreakerState]
    BREAKER_STATE_CLOSED: _ClassVar[BreakerState]
    BREAKER_STATE_OPEN: _ClassVar[BreakerState]
    BREAKER_STATE_HALF_OPEN: _ClassVar[BreakerState]

class SyncState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_STATE_UNSPECIFIED: _ClassVar[SyncState]
    SYNC_STATE_PENDING: _ClassVar[SyncState]
    SYNC_STATE_SYNCED: _ClassVar[SyncState]
    SYNC_STATE_DEAD_LETTERED: _ClassVar[SyncState]

class ImportChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_CHANGE_KIND_UNSPECIFIED: _ClassVar[ImportChangeKind]
    IMPORT_CHANGE_KIND_SERVICE_CREATED: _ClassVar[ImportChangeKind]
    IMPORT_CHANGE_KIND_SERVICE_UPDATED: _ClassVar[ImportChangeKind]
    IMPORT_CHANGE_KIND_SERVICE_OFFERED: _ClassVar[ImportChangeKind]
    IMPORT_CHANGE_KIND_WORKING_HOURS_REPLACED: _ClassVar[ImportChangeKind]
    IMPORT_CHANGE_KIND_DATE_OVERRIDE_SET: _ClassVar[ImportChangeKind]
    IMPORT_CHANGE_KIND_SKIPPED: _ClassVar[ImportChangeKind]
BREAKER_STATE_UNSPECIFIED: BreakerState
BREAKER_STATE_CLOSED: BreakerState
BREAKER_STATE_OPEN: BreakerState
BREAKER_STATE_HALF_OPEN: BreakerState
SYNC_STATE_UNSPECIFIED: SyncState
SYNC_STATE_PENDING: SyncState
SYNC_STATE_SYNCED: SyncState
SYNC_STATE_DEAD_LETTERED: SyncState
IMPORT_CHANGE_KIND_UNSPECIFIED: ImportChangeKind
IMPORT_CHANGE_KIND_SERVICE_CREATED: ImportChangeKind
IMPORT_CHANGE_KIND_SERVICE_UPDATED: ImportChangeKind
IMPORT_CHANGE_KIND_SERVICE_OFFERED: ImportChangeKind
IMPORT_CHANGE_KIND_WORKING_HOURS_REPLACED: ImportChangeKind
IMPORT_CHANGE_KIND_DATE_OVERRIDE_SET: ImportChangeKind
IMPORT_CHANGE_KIND_SKIPPED: ImportChangeKind

class CalcomAccount(_message.Message):
    __slots__ = ("user_id", "username", "email", "time_zone")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    username: str
    email: str
    time_zone: str
    def __init__(self, user_id: _Optional[int] = ..., username: _Optional[str] = ..., email: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class CalcomStaffLink(_message.Message):
    __slots__ = ("staff_id", "event_type_id", "calcom_user_id", "calcom_email")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    CALCOM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CALCOM_EMAIL_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    event_type_id: int
    calcom_user_id: int
    calcom_email: str
    def __init__(self, staff_id: _Optional[str] = ..., event_type_id: _Optional[int] = ..., calcom_user_id: _Optional[int] = ..., calcom_email: _Optional[str] = ...) -> None: ...

class CalcomConnection(_message.Message):
    __slots__ = ("base_url", "api_key_hint", "account", "staff_links", "breaker_state", "pending_syncs", "dead_lettered_syncs", "create_time", "update_time")
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    API_KEY_HINT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    STAFF_LINKS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    PENDING_SYNCS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_SYNCS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    base_url: str
    api_key_hint: str
    account: CalcomAccount
    staff_links: _containers.RepeatedCompositeFieldContainer[CalcomStaffLink]
    breaker_state: BreakerState
    pending_syncs: int
    dead_lettered_syncs: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, base_url: _Optional[str] = ..., api_key_hint: _Optional[str] = ..., account: _Optional[_Union[CalcomAccount, _Mapping]] = ..., staff_links: _Optional[_Iterable[_Union[CalcomStaffLink, _Mapping]]] = ..., breaker_state: _Optional[_Union[BreakerState, str]] = ..., pending_syncs: _Optional[int] = ..., dead_lettered_syncs: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CalcomSync(_message.Message):
    __slots__ = ("appointment_id", "state", "calcom_booking_uid", "attempt_count", "last_error", "next_attempt_time", "update_time")
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CALCOM_BOOKING_UID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    appointment_id: str
    state: SyncState
    calcom_booking_uid: str
    attempt_count: int
    last_error: str
    next_attempt_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, appointment_id: _Optional[str] = ..., state: _Optional[_Union[SyncState, str]] = ..., calcom_booking_uid: _Optional[str] = ..., attempt_count: _Optional[int] = ..., last_error: _Optional[str] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ImportChange(_message.Message):
    __slots__ = ("kind", "subject_id", "description")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    kind: ImportChangeKind
    subject_id: str
    description: str
    def __init__(self, kind: _Optional[_Union[ImportChangeKind, str]] = ..., subject_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...
