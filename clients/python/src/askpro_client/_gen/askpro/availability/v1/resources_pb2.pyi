import datetime

from askpro_client._gen.askpro.type.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HoldState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HOLD_STATE_UNSPECIFIED: _ClassVar[HoldState]
    HOLD_STATE_ACTIVE: _ClassVar[HoldState]
    HOLD_STATE_EXPIRED: _ClassVar[HoldState]
    HOLD_STATE_RELEASED: _ClassVar[HoldState]
    HOLD_STATE_CONVERTED: _ClassVar[HoldState]
HOLD_STATE_UNSPECIFIED: HoldState
HOLD_STATE_ACTIVE: HoldState
HOLD_STATE_EXPIRED: HoldState
HOLD_STATE_RELEASED: HoldState
HOLD_STATE_CONVERTED: HoldState

class DayHours(_message.Message):
    __slots__ = ("day_of_week", "intervals")
    DAY_OF_WEEK_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    day_of_week: _types_pb2.DayOfWeek
    intervals: _containers.RepeatedCompositeFieldContainer[_types_pb2.LocalTimeInterval]
    def __init__(self, day_of_week: _Optional[_Union[_types_pb2.DayOfWeek, str]] = ..., intervals: _Optional[_Iterable[_Union[_types_pb2.LocalTimeInterval, _Mapping]]] = ...) -> None: ...

class WorkingHours(_message.Message):
    __slots__ = ("staff_id", "days", "etag", "update_time")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    days: _containers.RepeatedCompositeFieldContainer[DayHours]
    etag: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, staff_id: _Optional[str] = ..., days: _Optional[_Iterable[_Union[DayHours, _Mapping]]] = ..., etag: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DateOverride(_message.Message):
    __slots__ = ("date", "intervals")
    DATE_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    date: _types_pb2.LocalDate
    intervals: _containers.RepeatedCompositeFieldContainer[_types_pb2.LocalTimeInterval]
    def __init__(self, date: _Optional[_Union[_types_pb2.LocalDate, _Mapping]] = ..., intervals: _Optional[_Iterable[_Union[_types_pb2.LocalTimeInterval, _Mapping]]] = ...) -> None: ...

class TimeOff(_message.Message):
    __slots__ = ("id", "staff_id", "absence", "date_override", "reason", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    ABSENCE_FIELD_NUMBER: _ClassVar[int]
    DATE_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    staff_id: str
    absence: _types_pb2.TimeRange
    date_override: DateOverride
    reason: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., staff_id: _Optional[str] = ..., absence: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., date_override: _Optional[_Union[DateOverride, _Mapping]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Slot(_message.Message):
    __slots__ = ("staff_id", "start_time", "end_time", "local_start_time", "local_end_time")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCAL_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCAL_END_TIME_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    local_start_time: str
    local_end_time: str
    def __init__(self, staff_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., local_start_time: _Optional[str] = ..., local_end_time: _Optional[str] = ...) -> None: ...

class Hold(_message.Message):
    __slots__ = ("id", "service_id", "staff_id", "branch_id", "start_time", "end_time", "hold_key", "expire_time", "create_time", "state", "appointment_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    HOLD_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    service_id: str
    staff_id: str
    branch_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    hold_key: str
    expire_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    state: HoldState
    appointment_id: str
    def __init__(self, id: _Optional[str] = ..., service_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., branch_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hold_key: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[HoldState, str]] = ..., appointment_id: _Optional[str] = ...) -> None: ...
