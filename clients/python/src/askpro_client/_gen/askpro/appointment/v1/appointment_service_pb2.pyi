import datetime

from askpro_client._gen.askpro.appointment.v1 import resources_pb2 as _resources_pb2
from askpro_client._gen.askpro.type.v1 import types_pb2 as _types_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HoldReference(_message.Message):
    __slots__ = ("hold_id", "hold_key")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_KEY_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    hold_key: str
    def __init__(self, hold_id: _Optional[str] = ..., hold_key: _Optional[str] = ...) -> None: ...

class ExplicitSlot(_message.Message):
    __slots__ = ("service_id", "staff_id", "start_time", "branch_id")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    staff_id: str
    start_time: _timestamp_pb2.Timestamp
    branch_id: str
    def __init__(self, service_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., branch_id: _Optional[str] = ...) -> None: ...

class CustomerInput(_message.Message):
    __slots__ = ("phone_number", "display_name", "email")
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    phone_number: str
    display_name: str
    email: str
    def __init__(self, phone_number: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class CreateAppointmentRequest(_message.Message):
    __slots__ = ("request_id", "from_hold", "explicit_slot", "customer_id", "new_customer", "source", "notes", "call_id", "initial_status")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_HOLD_FIELD_NUMBER: _ClassVar[int]
    EXPLICIT_SLOT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    INITIAL_STATUS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    from_hold: HoldReference
    explicit_slot: ExplicitSlot
    customer_id: str
    new_customer: CustomerInput
    source: _resources_pb2.AppointmentSource
    notes: str
    call_id: str
    initial_status: _resources_pb2.AppointmentStatus
    def __init__(self, request_id: _Optional[str] = ..., from_hold: _Optional[_Union[HoldReference, _Mapping]] = ..., explicit_slot: _Optional[_Union[ExplicitSlot, _Mapping]] = ..., customer_id: _Optional[str] = ..., new_customer: _Optional[_Union[CustomerInput, _Mapping]] = ..., source: _Optional[_Union[_resources_pb2.AppointmentSource, str]] = ..., notes: _Optional[str] = ..., call_id: _Optional[str] = ..., initial_status: _Optional[_Union[_resources_pb2.AppointmentStatus, str]] = ...) -> None: ...

class CreateAppointmentResponse(_message.Message):
    __slots__ = ("appointment", "customer")
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    customer: _resources_pb2.Customer
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ..., customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ...) -> None: ...

class GetAppointmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAppointmentResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class ListAppointmentsRequest(_message.Message):
    __slots__ = ("time_range", "staff_ids", "customer_id", "statuses", "branch_id", "page_size", "page_token")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    STAFF_IDS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    time_range: _types_pb2.TimeRange
    staff_ids: _containers.RepeatedScalarFieldContainer[str]
    customer_id: str
    statuses: _containers.RepeatedScalarFieldContainer[_resources_pb2.AppointmentStatus]
    branch_id: str
    page_size: int
    page_token: str
    def __init__(self, time_range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., staff_ids: _Optional[_Iterable[str]] = ..., customer_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_resources_pb2.AppointmentStatus, str]]] = ..., branch_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAppointmentsResponse(_message.Message):
    __slots__ = ("appointments", "next_page_token")
    APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    appointments: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Appointment]
    next_page_token: str
    def __init__(self, appointments: _Optional[_Iterable[_Union[_resources_pb2.Appointment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateAppointmentRequest(_message.Message):
    __slots__ = ("appointment", "update_mask")
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAppointmentResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class CancelAppointmentRequest(_message.Message):
    __slots__ = ("id", "request_id", "reason", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    reason: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class CancelAppointmentResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class RescheduleAppointmentRequest(_message.Message):
    __slots__ = ("id", "request_id", "start_time", "staff_id", "hold", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    start_time: _timestamp_pb2.Timestamp
    staff_id: str
    hold: HoldReference
    etag: str
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., staff_id: _Optional[str] = ..., hold: _Optional[_Union[HoldReference, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class RescheduleAppointmentResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class ConfirmAppointmentRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ConfirmAppointmentResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class MarkNoShowRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class MarkNoShowResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class CompleteAppointmentRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class CompleteAppointmentResponse(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _resources_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ...) -> None: ...

class WatchAppointmentsRequest(_message.Message):
    __slots__ = ("staff_ids", "branch_id")
    STAFF_IDS_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    staff_ids: _containers.RepeatedScalarFieldContainer[str]
    branch_id: str
    def __init__(self, staff_ids: _Optional[_Iterable[str]] = ..., branch_id: _Optional[str] = ...) -> None: ...

class WatchAppointmentsResponse(_message.Message):
    __slots__ = ("change", "appointment", "change_time")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    change: _resources_pb2.AppointmentChange
    appointment: _resources_pb2.Appointment
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, change: _Optional[_Union[_resources_pb2.AppointmentChange, str]] = ..., appointment: _Optional[_Union[_resources_pb2.Appointment, _Mapping]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("request_id", "customer", "region_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer: _resources_pb2.Customer
    region_code: str
    def __init__(self, request_id: _Optional[str] = ..., customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ..., region_code: _Optional[str] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("customer", "update_mask", "region_code")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    update_mask: _field_mask_pb2.FieldMask
    region_code: str
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., region_code: _Optional[str] = ...) -> None: ...

class UpdateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ...) -> None: ...

class DeleteCustomerRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteCustomerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("query", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[_resources_pb2.Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class FindCustomerByPhoneRequest(_message.Message):
    __slots__ = ("phone_number", "branch_id")
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    phone_number: str
    branch_id: str
    def __init__(self, phone_number: _Optional[str] = ..., branch_id: _Optional[str] = ...) -> None: ...

class FindCustomerByPhoneResponse(_message.Message):
    __slots__ = ("customer", "upcoming_appointments")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    UPCOMING_APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    upcoming_appointments: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Appointment]
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ..., upcoming_appointments: _Optional[_Iterable[_Union[_resources_pb2.Appointment, _Mapping]]] = ...) -> None: ...

class CreateCallCredentialRequest(_message.Message):
    __slots__ = ("phone_number", "branch_id", "call_id", "ttl")
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    phone_number: str
    branch_id: str
    call_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, phone_number: _Optional[str] = ..., branch_id: _Optional[str] = ..., call_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CreateCallCredentialResponse(_message.Message):
    __slots__ = ("credential", "phone_number", "expire_time")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    credential: str
    phone_number: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, credential: _Optional[str] = ..., phone_number: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetDashboardStatsRequest(_message.Message):
    __slots__ = ("date", "period", "branch_id")
    DATE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    date: _types_pb2.LocalDate
    period: _resources_pb2.StatsPeriod
    branch_id: str
    def __init__(self, date: _Optional[_Union[_types_pb2.LocalDate, _Mapping]] = ..., period: _Optional[_Union[_resources_pb2.StatsPeriod, str]] = ..., branch_id: _Optional[str] = ...) -> None: ...

class GetDashboardStatsResponse(_message.Message):
    __slots__ = ("range", "appointment_counts", "no_show_rate", "utilization", "new_customers", "time_zone")
    RANGE_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    NO_SHOW_RATE_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    NEW_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    range: _types_pb2.TimeRange
    appointment_counts: _resources_pb2.AppointmentCounts
    no_show_rate: float
    utilization: float
    new_customers: int
    time_zone: str
    def __init__(self, range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., appointment_counts: _Optional[_Union[_resources_pb2.AppointmentCounts, _Mapping]] = ..., no_show_rate: _Optional[float] = ..., utilization: _Optional[float] = ..., new_customers: _Optional[int] = ..., time_zone: _Optional[str] = ...) -> None: ...
