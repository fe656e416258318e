from askpro_client._gen.askpro.integration.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectCalcomRequest(_message.Message):
    __slots__ = ("connection", "api_key")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    connection: _resources_pb2.CalcomConnection
    api_key: str
    def __init__(self, connection: _Optional[_Union[_resources_pb2.CalcomConnection, _Mapping]] = ..., api_key: _Optional[str] = ...) -> None: ...

class ConnectCalcomResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _resources_pb2.CalcomConnection
    def __init__(self, connection: _Optional[_Union[_resources_pb2.CalcomConnection, _Mapping]] = ...) -> None: ...

class GetCalcomConnectionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCalcomConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _resources_pb2.CalcomConnection
    def __init__(self, connection: _Optional[_Union[_resources_pb2.CalcomConnection, _Mapping]] = ...) -> None: ...

class DisconnectCalcomRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DisconnectCalcomResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ImportFromCalcomRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ImportFromCalcomResponse(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ImportChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[_resources_pb2.ImportChange, _Mapping]]] = ...) -> None: ...

class GetCalcomSyncRequest(_message.Message):
    __slots__ = ("appointment_id",)
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    appointment_id: str
    def __init__(self, appointment_id: _Optional[str] = ...) -> None: ...

class GetCalcomSyncResponse(_message.Message):
    __slots__ = ("sync",)
    SYNC_FIELD_NUMBER: _ClassVar[int]
    sync: _resources_pb2.CalcomSync
    def __init__(self, sync: _Optional[_Union[_resources_pb2.CalcomSync, _Mapping]] = ...) -> None: ...

class ListCalcomSyncsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _resources_pb2.SyncState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_resources_pb2.SyncState, str]] = ...) -> None: ...

class ListCalcomSyncsResponse(_message.Message):
    __slots__ = ("syncs", "next_page_token")
    SYNCS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    syncs: _containers.RepeatedCompositeFieldContainer[_resources_pb2.CalcomSync]
    next_page_token: str
    def __init__(self, syncs: _Optional[_Iterable[_Union[_resources_pb2.CalcomSync, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RetryCalcomSyncRequest(_message.Message):
    __slots__ = ("appointment_id",)
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    appointment_id: str
    def __init__(self, appointment_id: _Optional[str] = ...) -> None: ...

class RetryCalcomSyncResponse(_message.Message):
    __slots__ = ("sync",)
    SYNC_FIELD_NUMBER: _ClassVar[int]
    sync: _resources_pb2.CalcomSync
    def __init__(self, sync: _Optional[_Union[_resources_pb2.CalcomSync, _Mapping]] = ...) -> None: ...
