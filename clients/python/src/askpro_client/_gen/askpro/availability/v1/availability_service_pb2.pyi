import datetime

from askpro_client._gen.askpro.availability.v1 import resources_pb2 as _resources_pb2
from askpro_client._gen.askpro.type.v1 import types_pb2 as _types_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExternalCalendarState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXTERNAL_CALENDAR_STATE_UNSPECIFIED: _ClassVar[ExternalCalendarState]
    EXTERNAL_CALENDAR_STATE_CURRENT: _ClassVar[ExternalCalendarState]
    EXTERNAL_CALENDAR_STATE_STALE: _ClassVar[ExternalCalendarState]
    EXTERNAL_CALENDAR_STATE_UNAVAILABLE: _ClassVar[ExternalCalendarState]
EXTERNAL_CALENDAR_STATE_UNSPECIFIED: ExternalCalendarState
EXTERNAL_CALENDAR_STATE_CURRENT: ExternalCalendarState
EXTERNAL_CALENDAR_STATE_STALE: ExternalCalendarState
EXTERNAL_CALENDAR_STATE_UNAVAILABLE: ExternalCalendarState

class GetWorkingHoursRequest(_message.Message):
    __slots__ = ("staff_id",)
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    def __init__(self, staff_id: _Optional[str] = ...) -> None: ...

class GetWorkingHoursResponse(_message.Message):
    __slots__ = ("working_hours",)
    WORKING_HOURS_FIELD_NUMBER: _ClassVar[int]
    working_hours: _resources_pb2.WorkingHours
    def __init__(self, working_hours: _Optional[_Union[_resources_pb2.WorkingHours, _Mapping]] = ...) -> None: ...

class SetWorkingHoursRequest(_message.Message):
    __slots__ = ("staff_id", "days", "etag")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    days: _containers.RepeatedCompositeFieldContainer[_resources_pb2.DayHours]
    etag: str
    def __init__(self, staff_id: _Optional[str] = ..., days: _Optional[_Iterable[_Union[_resources_pb2.DayHours, _Mapping]]] = ..., etag: _Optional[str] = ...) -> None: ...

class SetWorkingHoursResponse(_message.Message):
    __slots__ = ("working_hours", "conflicting_appointment_ids")
    WORKING_HOURS_FIELD_NUMBER: _ClassVar[int]
    CONFLICTING_APPOINTMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    working_hours: _resources_pb2.WorkingHours
    conflicting_appointment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, working_hours: _Optional[_Union[_resources_pb2.WorkingHours, _Mapping]] = ..., conflicting_appointment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateTimeOffRequest(_message.Message):
    __slots__ = ("request_id", "time_off")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    time_off: _resources_pb2.TimeOff
    def __init__(self, request_id: _Optional[str] = ..., time_off: _Optional[_Union[_resources_pb2.TimeOff, _Mapping]] = ...) -> None: ...

class CreateTimeOffResponse(_message.Message):
    __slots__ = ("time_off", "conflicting_appointment_ids")
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    CONFLICTING_APPOINTMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    time_off: _resources_pb2.TimeOff
    conflicting_appointment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, time_off: _Optional[_Union[_resources_pb2.TimeOff, _Mapping]] = ..., conflicting_appointment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetTimeOffRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTimeOffResponse(_message.Message):
    __slots__ = ("time_off",)
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    time_off: _resources_pb2.TimeOff
    def __init__(self, time_off: _Optional[_Union[_resources_pb2.TimeOff, _Mapping]] = ...) -> None: ...

class ListTimeOffRequest(_message.Message):
    __slots__ = ("staff_id", "time_range", "page_size", "page_token")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    time_range: _types_pb2.TimeRange
    page_size: int
    page_token: str
    def __init__(self, staff_id: _Optional[str] = ..., time_range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTimeOffResponse(_message.Message):
    __slots__ = ("time_off", "next_page_token")
    TIME_OFF_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    time_off: _containers.RepeatedCompositeFieldContainer[_resources_pb2.TimeOff]
    next_page_token: str
    def __init__(self, time_off: _Optional[_Iterable[_Union[_resources_pb2.TimeOff, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteTimeOffRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteTimeOffResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAvailableSlotsRequest(_message.Message):
    __slots__ = ("branch_id", "service_id", "staff_ids", "time_range", "time_zone", "page_size", "page_token")
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_IDS_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    branch_id: str
    service_id: str
    staff_ids: _containers.RepeatedScalarFieldContainer[str]
    time_range: _types_pb2.TimeRange
    time_zone: str
    page_size: int
    page_token: str
    def __init__(self, branch_id: _Optional[str] = ..., service_id: _Optional[str] = ..., staff_ids: _Optional[_Iterable[str]] = ..., time_range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., time_zone: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAvailableSlotsResponse(_message.Message):
    __slots__ = ("slots", "next_page_token", "time_zone", "external_calendar")
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_CALENDAR_FIELD_NUMBER: _ClassVar[int]
    slots: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Slot]
    next_page_token: str
    time_zone: str
    external_calendar: ExternalCalendarState
    def __init__(self, slots: _Optional[_Iterable[_Union[_resources_pb2.Slot, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., time_zone: _Optional[str] = ..., external_calendar: _Optional[_Union[ExternalCalendarState, str]] = ...) -> None: ...

class HoldSlotRequest(_message.Message):
    __slots__ = ("request_id", "branch_id", "service_id", "staff_id", "start_time", "hold_key", "ttl")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    HOLD_KEY_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    branch_id: str
    service_id: str
    staff_id: str
    start_time: _timestamp_pb2.Timestamp
    hold_key: str
    ttl: _duration_pb2.Duration
    def __init__(self, request_id: _Optional[str] = ..., branch_id: _Optional[str] = ..., service_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hold_key: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class HoldSlotResponse(_message.Message):
    __slots__ = ("hold",)
    HOLD_FIELD_NUMBER: _ClassVar[int]
    hold: _resources_pb2.Hold
    def __init__(self, hold: _Optional[_Union[_resources_pb2.Hold, _Mapping]] = ...) -> None: ...

class GetHoldRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetHoldResponse(_message.Message):
    __slots__ = ("hold",)
    HOLD_FIELD_NUMBER: _ClassVar[int]
    hold: _resources_pb2.Hold
    def __init__(self, hold: _Optional[_Union[_resources_pb2.Hold, _Mapping]] = ...) -> None: ...

class ExtendHoldRequest(_message.Message):
    __slots__ = ("id", "hold_key", "ttl")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_KEY_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    id: str
    hold_key: str
    ttl: _duration_pb2.Duration
    def __init__(self, id: _Optional[str] = ..., hold_key: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExtendHoldResponse(_message.Message):
    __slots__ = ("hold",)
    HOLD_FIELD_NUMBER: _ClassVar[int]
    hold: _resources_pb2.Hold
    def __init__(self, hold: _Optional[_Union[_resources_pb2.Hold, _Mapping]] = ...) -> None: ...

class ReleaseHoldRequest(_message.Message):
    __slots__ = ("id", "hold_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    hold_key: str
    def __init__(self, id: _Optional[str] = ..., hold_key: _Optional[str] = ...) -> None: ...

class ReleaseHoldResponse(_message.Message):
    __slots__ = ("hold",)
    HOLD_FIELD_NUMBER: _ClassVar[int]
    hold: _resources_pb2.Hold
    def __init__(self, hold: _Optional[_Union[_resources_pb2.Hold, _Mapping]] = ...) -> None: ...
