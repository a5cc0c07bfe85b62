// Domain metadata elements (virDomainGetMetadata / virDomainSetMetadata), for tenancy: who owns a
// VM, as OpenNebula (one:vm), Nova (nova:instance) or vmpulse itself wrote it.
#include "common.h"

namespace vmp {

namespace {

// For each domain (all of them, or the listed uuids), the metadata element of each namespace URI,
// or null when the domain has none. One worker call for the whole host.
class MetadataTask : public Task {
 public:
  MetadataTask(virConnectPtr c, std::vector<std::string> uris, std::vector<std::string> uuids, bool all)
      : Task(c), uris_(std::move(uris)), uuids_(std::move(uuids)), all_(all) {}

  void Run() override {
    if (all_) {
      virDomainPtr* doms = nullptr;
      int n = virConnectListAllDomains(conn(), &doms, 0);
      if (n < 0) return FailLibvirt("virConnectListAllDomains");
      for (int i = 0; i < n; i++) {
        Read(doms[i]);
        virDomainFree(doms[i]);
      }
      free(doms);
      return;
    }
    for (const auto& uuid : uuids_) {
      virDomainPtr d = virDomainLookupByUUIDString(conn(), uuid.c_str());
      if (!d) {
        virResetLastError();  // gone meanwhile: left out
        continue;
      }
      Read(d);
      virDomainFree(d);
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("uuid", out_[i].uuid);
      Napi::Array els = Napi::Array::New(env, out_[i].elements.size());
      for (size_t k = 0; k < out_[i].elements.size(); k++) {
        const auto& e = out_[i].elements[k];
        els.Set(static_cast<uint32_t>(k), e.has ? Napi::Value(Napi::String::New(env, e.xml)) : env.Null());
      }
      o.Set("elements", els);
      arr.Set(static_cast<uint32_t>(i), o);
    }
    return arr;
  }

 private:
  struct Element {
    bool has = false;
    std::string xml;
  };
  struct Row {
    std::string uuid;
    std::vector<Element> elements;
  };

  void Read(virDomainPtr dom) {
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(dom, uuid) < 0) {
      virResetLastError();
      return;
    }
    Row row;
    row.uuid = uuid;
    for (const auto& uri : uris_) {
      Element e;
      // AFFECT_CURRENT: the live definition of a running domain, the persistent one otherwise.
      char* x = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, uri.c_str(), VIR_DOMAIN_AFFECT_CURRENT);
      if (x) {
        e.has = true;
        e.xml = x;
        free(x);
      } else {
        virResetLastError();  // VIR_ERR_NO_DOMAIN_METADATA: none in that namespace
      }
      row.elements.push_back(std::move(e));
    }
    out_.push_back(std::move(row));
  }

  std::vector<std::string> uris_;
  std::vector<std::string> uuids_;
  bool all_;
  std::vector<Row> out_;
};

// Sets (or, with an empty xml, removes) one metadata element, in the live definition of a running
// domain and in the persistent one of a defined domain, so it survives restarts and redefinition.
class SetMetadataTask : public Task {
 public:
  SetMetadataTask(virConnectPtr c, std::string uuid, std::string xml, std::string key, std::string uri)
      : Task(c), uuid_(std::move(uuid)), xml_(std::move(xml)), key_(std::move(key)), uri_(std::move(uri)) {}

  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    unsigned flags = 0;
    int active = virDomainIsActive(d.dom);
    int persistent = virDomainIsPersistent(d.dom);
    if (active < 0 || persistent < 0) return FailLibvirt("virDomainIsActive");
    if (active == 1) flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (persistent == 1) flags |= VIR_DOMAIN_AFFECT_CONFIG;
    const char* xml = xml_.empty() ? nullptr : xml_.c_str();
    const char* key = xml_.empty() ? nullptr : key_.c_str();
    if (virDomainSetMetadata(d.dom, VIR_DOMAIN_METADATA_ELEMENT, xml, key, uri_.c_str(), flags) < 0) {
      FailLibvirt("virDomainSetMetadata");
    }
  }

 private:
  std::string uuid_, xml_, key_, uri_;
};

std::vector<std::string> StringArray(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings");
    out.push_back(v.As<Napi::String>().Utf8Value());
  }
  return out;
}

}  // namespace

// domainMetadata(uris: string[], uuids?: string[] | null)
Napi::Value Connection::DomainMetadata(const Napi::CallbackInfo& info) {
  auto uris = StringArray(info, 0, "uris");
  bool all = info.Length() < 2 || info[1].IsNull() || info[1].IsUndefined();
  std::vector<std::string> uuids = all ? std::vector<std::string>{} : StringArray(info, 1, "uuids");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<MetadataTask>(conn_, std::move(uris), std::move(uuids), all));
}

// setDomainMetadata(uuid, xml ('' removes), key, uri)
Napi::Value Connection::SetDomainMetadata(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  std::string xml = ArgString(info, 1, "xml");
  std::string key = ArgString(info, 2, "key");
  std::string uri = ArgString(info, 3, "uri");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<SetMetadataTask>(conn_, uuid, xml, key, uri));
}

}  // namespace vmp
