import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AppointmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPOINTMENT_STATUS_UNSPECIFIED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_PENDING: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_CONFIRMED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_CANCELLED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_COMPLETED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_NO_SHOW: _ClassVar[AppointmentStatus]

class AppointmentSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPOINTMENT_SOURCE_UNSPECIFIED: _ClassVar[AppointmentSource]
    APPOINTMENT_SOURCE_PHONE_AGENT: _ClassVar[AppointmentSource]
    APPOINTMENT_SOURCE_FRONTEND: _ClassVar[AppointmentSource]
    APPOINTMENT_SOURCE_PARTNER_API: _ClassVar[AppointmentSource]
    APPOINTMENT_SOURCE_CALCOM: _ClassVar[AppointmentSource]

class AppointmentChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPOINTMENT_CHANGE_UNSPECIFIED: _ClassVar[AppointmentChange]
    APPOINTMENT_CHANGE_CREATED: _ClassVar[AppointmentChange]
    APPOINTMENT_CHANGE_UPDATED: _ClassVar[AppointmentChange]
    APPOINTMENT_CHANGE_CANCELLED: _ClassVar[AppointmentChange]
    APPOINTMENT_CHANGE_RESCHEDULED: _ClassVar[AppointmentChange]
    APPOINTMENT_CHANGE_HEARTBEAT: _ClassVar[AppointmentChange]

class StatsPeriod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATS_PERIOD_UNSPECIFIED: _ClassVar[StatsPeriod]
    STATS_PERIOD_DAY: _ClassVar[StatsPeriod]
    STATS_PERIOD_WEEK: _ClassVar[StatsPeriod]
    STATS_PERIOD_MONTH: _ClassVar[StatsPeriod]
APPOINTMENT_STATUS_UNSPECIFIED: AppointmentStatus
APPOINTMENT_STATUS_PENDING: AppointmentStatus
APPOINTMENT_STATUS_CONFIRMED: AppointmentStatus
APPOINTMENT_STATUS_CANCELLED: AppointmentStatus
APPOINTMENT_STATUS_COMPLETED: AppointmentStatus
APPOINTMENT_STATUS_NO_SHOW: AppointmentStatus
APPOINTMENT_SOURCE_UNSPECIFIED: AppointmentSource
APPOINTMENT_SOURCE_PHONE_AGENT: AppointmentSource
APPOINTMENT_SOURCE_FRONTEND: AppointmentSource
APPOINTMENT_SOURCE_PARTNER_API: AppointmentSource
APPOINTMENT_SOURCE_CALCOM: AppointmentSource
APPOINTMENT_CHANGE_UNSPECIFIED: AppointmentChange
APPOINTMENT_CHANGE_CREATED: AppointmentChange
APPOINTMENT_CHANGE_UPDATED: AppointmentChange
APPOINTMENT_CHANGE_CANCELLED: AppointmentChange
APPOINTMENT_CHANGE_RESCHEDULED: AppointmentChange
APPOINTMENT_CHANGE_HEARTBEAT: AppointmentChange
STATS_PERIOD_UNSPECIFIED: StatsPeriod
STATS_PERIOD_DAY: StatsPeriod
STATS_PERIOD_WEEK: StatsPeriod
STATS_PERIOD_MONTH: StatsPeriod

class Appointment(_message.Message):
    __slots__ = ("id", "branch_id", "service_id", "staff_id", "customer_id", "start_time", "end_time", "status", "source", "notes", "cancel_reason", "call_id", "external_booking_uid", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_BOOKING_UID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    branch_id: str
    service_id: str
    staff_id: str
    customer_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    status: AppointmentStatus
    source: AppointmentSource
    notes: str
    cancel_reason: str
    call_id: str
    external_booking_uid: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., branch_id: _Optional[str] = ..., service_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[AppointmentStatus, str]] = ..., source: _Optional[_Union[AppointmentSource, str]] = ..., notes: _Optional[str] = ..., cancel_reason: _Optional[str] = ..., call_id: _Optional[str] = ..., external_booking_uid: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "phone_number", "display_name", "email", "notes", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    phone_number: str
    display_name: str
    email: str
    notes: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., phone_number: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., notes: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class AppointmentCounts(_message.Message):
    __slots__ = ("pending", "confirmed", "cancelled", "completed", "no_show", "total")
    PENDING_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    NO_SHOW_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    pending: int
    confirmed: int
    cancelled: int
    completed: int
    no_show: int
    total: int
    def __init__(self, pending: _Optional[int] = ..., confirmed: _Optional[int] = ..., cancelled: _Optional[int] = ..., completed: _Optional[int] = ..., no_show: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...
