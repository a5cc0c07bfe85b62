// libvirt error capture and conversion to JS errors.
#include "common.h"

namespace vmp {

static void QuietErrorFunc(void* /*userdata*/, virErrorPtr /*error*/) {
  // Errors are read with virGetLastError on the failing thread; libvirt's
  // default handler would print them to stderr.
}

void InstallQuietErrorHandler() { virSetErrorFunc(nullptr, QuietErrorFunc); }

LvError CaptureLastError(const char* what) {
  LvError e;
  virErrorPtr err = virGetLastError();
  if (err != nullptr && err->code != VIR_ERR_OK) {
    e.code = err->code;
    e.domain = err->domain;
    e.message = err->message ? err->message : std::string(what) + " failed";
  } else {
    e.code = VIR_ERR_INTERNAL_ERROR;
    e.domain = VIR_FROM_NONE;
    e.message = std::string(what) + " failed without a libvirt error";
  }
  virResetLastError();
  return e;
}

Napi::Error MakeJsError(Napi::Env env, const LvError& err) {
  Napi::Error e = Napi::Error::New(env, err.message);
  e.Set("code", Napi::Number::New(env, err.code));
  e.Set("domain", Napi::Number::New(env, err.domain));
  e.Set("libvirtMessage", Napi::String::New(env, err.message));
  return e;
}

}  // namespace vmp
