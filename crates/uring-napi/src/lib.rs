use napi_derive::napi;
