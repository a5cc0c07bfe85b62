// Stats records as ONE table per call instead of one JS object of ~40 BigInt-valued keys per
// record (~70k JS values a tick at 1,000 VMs): every distinct key and string once, the values in
// one ArrayBuffer (8 bytes an entry), entries located by typed arrays. See StatsTable in
// server/src/libvirt/types.ts for the layout the JS side reads.
#include "stat_readers.h"

#include <cstring>
#include <unordered_map>

namespace vmp {

namespace {

// Each distinct string once, in first-seen order (node-based map: element addresses are stable).
class Interner {
 public:
  uint32_t Index(const std::string& s) {
    auto it = index_.try_emplace(s, static_cast<uint32_t>(order_.size()));
    if (it.second) order_.push_back(&it.first->first);
    return it.first->second;
  }
  Napi::Array ToJs(Napi::Env env) const {
    Napi::Array a = Napi::Array::New(env, order_.size());
    for (size_t i = 0; i < order_.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, *order_[i]));
    return a;
  }

 private:
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<const std::string*> order_;
};

uint64_t DoubleBits(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return bits;
}

}  // namespace

Napi::Object ParamsToTable(Napi::Env env, const std::vector<TableRow>& rows) {
  size_t total = 0;
  for (const TableRow& r : rows) total += r.params->size();
  Interner keys, strings;
  Napi::Uint32Array start = Napi::Uint32Array::New(env, rows.size() + 1);
  Napi::Uint32Array key = Napi::Uint32Array::New(env, total);
  Napi::Uint8Array kind = Napi::Uint8Array::New(env, total);
  Napi::ArrayBuffer values = Napi::ArrayBuffer::New(env, total * 8);
  uint64_t* v = static_cast<uint64_t*>(values.Data());
  Napi::Array uuids = Napi::Array::New(env, rows.size());
  Napi::Array names = Napi::Array::New(env, rows.size());
  uint32_t j = 0;
  for (size_t i = 0; i < rows.size(); i++) {
    start[i] = j;
    uuids.Set(static_cast<uint32_t>(i), Napi::String::New(env, *rows[i].uuid));
    names.Set(static_cast<uint32_t>(i), Napi::String::New(env, *rows[i].name));
    for (const Param& p : *rows[i].params) {
      key[j] = keys.Index(p.key);
      kind[j] = p.kind;
      switch (p.kind) {
        case Param::I32: v[j] = DoubleBits(p.i); break;
        case Param::U32: v[j] = DoubleBits(p.u); break;
        case Param::I64: v[j] = static_cast<uint64_t>(p.l); break;
        case Param::U64: v[j] = p.ul; break;
        case Param::F64: v[j] = DoubleBits(p.d); break;
        case Param::BOOL: v[j] = DoubleBits(p.b ? 1 : 0); break;
        case Param::STR: v[j] = DoubleBits(strings.Index(p.s)); break;
      }
      j++;
    }
  }
  start[rows.size()] = j;
  Napi::Object t = Napi::Object::New(env);
  t.Set("uuids", uuids);
  t.Set("names", names);
  t.Set("keys", keys.ToJs(env));
  t.Set("strings", strings.ToJs(env));
  t.Set("start", start);
  t.Set("key", key);
  t.Set("kind", kind);
  t.Set("values", values);
  return t;
}

}  // namespace vmp
