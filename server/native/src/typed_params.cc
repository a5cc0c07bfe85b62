// virTypedParameter <-> Param <-> JS conversion (64-bit ints as BigInt).
#include "common.h"

namespace vmp {

void AppendTypedParams(ParamList& out, const virTypedParameter* params, int n, const char* renameFrom,
                       const char* renameTo) {
  out.reserve(out.size() + static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    const virTypedParameter& p = params[i];
    std::string key = p.field;
    if (renameFrom && key == renameFrom) key = renameTo;
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: out.push_back(Param::Int(std::move(key), p.value.i)); break;
      case VIR_TYPED_PARAM_UINT: out.push_back(Param::UInt(std::move(key), p.value.ui)); break;
      case VIR_TYPED_PARAM_LLONG: out.push_back(Param::LLong(std::move(key), p.value.l)); break;
      case VIR_TYPED_PARAM_ULLONG: out.push_back(Param::ULLong(std::move(key), p.value.ul)); break;
      case VIR_TYPED_PARAM_DOUBLE: out.push_back(Param::Double(std::move(key), p.value.d)); break;
      case VIR_TYPED_PARAM_BOOLEAN: out.push_back(Param::Bool(std::move(key), p.value.b != 0)); break;
      case VIR_TYPED_PARAM_STRING:
        out.push_back(Param::Str(std::move(key), p.value.s ? p.value.s : ""));
        break;
      default: break;
    }
  }
}

Napi::Value ParamValue(Napi::Env env, const Param& p) {
  switch (p.kind) {
    case Param::I32: return Napi::Number::New(env, p.i);
    case Param::U32: return Napi::Number::New(env, p.u);
    case Param::I64: return Napi::BigInt::New(env, p.l);
    case Param::U64: return Napi::BigInt::New(env, p.ul);
    case Param::F64: return Napi::Number::New(env, p.d);
    case Param::BOOL: return Napi::Boolean::New(env, p.b);
    case Param::STR: return Napi::String::New(env, p.s);
  }
  return env.Undefined();
}

Napi::Object ParamsToObject(Napi::Env env, const ParamList& params) {
  Napi::Object o = Napi::Object::New(env);
  for (const Param& p : params) o.Set(p.key, ParamValue(env, p));
  return o;
}

}  // namespace vmp
