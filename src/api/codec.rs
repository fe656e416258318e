//! The protobuf codec of every AskPro service (generated code names it through
//! `codec_path` in build.rs).
//!
//! It is tonic-prost's codec with two changes on the way in: every string in
//! a message is checked once, here (`request_text`), and a message that is not
//! valid protobuf answers INVALID_ARGUMENT (the caller sent it) where
//! tonic-prost answers INTERNAL. Both go through `crate::error`.
use std::marker::PhantomData;

use prost::{Message, Name};
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

use super::request_text;
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct CheckedCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for CheckedCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for CheckedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Name + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder(PhantomData)
    }
}

#[derive(Debug, Clone)]
pub struct CheckedDecoder<U>(PhantomData<U>);

impl<U: Message + Default + Name> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        use bytes::Buf;
        // The frame is one contiguous buffer; should it ever not be, prost
        // still decodes it and only the text check is skipped.
        let bytes = buf.chunk();
        if bytes.len() == buf.remaining()
            && let Some(descriptor) = request_text::descriptor(&U::full_name())
            && let Err(bad) = request_text::check(&descriptor, bytes)
        {
            return Err(Error::invalid(bad.field, bad.description).into());
        }
        U::decode(buf)
            .map(Some)
            .map_err(|err| Error::invalid("", format!("the message is not a valid {}: {err}", U::full_name())).into())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}
