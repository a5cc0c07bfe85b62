// Module init: libvirt setup (quiet errors, event loop) and exports.
#include "common.h"

namespace vmp {

static Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  unsigned long v = 0;
  if (virGetVersion(&v, nullptr, nullptr) < 0) virResetLastError();
  return Napi::Number::New(info.Env(), static_cast<double>(v));
}

// Exposed for unit tests of the C++ XML device extraction.
static Napi::Value TargetDevs(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  std::string element = ArgString(info, 1, "element");
  auto devs = ExtractTargetDevs(xml, element.c_str());
  Napi::Array a = Napi::Array::New(info.Env(), devs.size());
  for (size_t i = 0; i < devs.size(); i++) a.Set(static_cast<uint32_t>(i), devs[i]);
  return a;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  virInitialize();
  InstallQuietErrorHandler();
  StartEventLoopOnce();
  exports.Set("Connection", Connection::Init(env));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("libVersion", Napi::Function::New(env, LibVersion, "libVersion"));
  exports.Set("targetDevs", Napi::Function::New(env, TargetDevs, "targetDevs"));
  exports.Set("gzipPipeline", Napi::Function::New(env, GzipPipeline, "gzipPipeline"));
  exports.Set("mkfifo", Napi::Function::New(env, MakeFifo, "mkfifo"));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim, "mallocTrim"));
  return exports;
}

}  // namespace vmp

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vmp::Init(env, exports); }

NODE_API_MODULE(vmpulse_libvirt, InitModule)
