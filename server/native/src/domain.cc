// Domain listing, info, XML and lifecycle operations.
#include "common.h"

namespace vmp {

const char* DomainStateName(int state) {
  switch (state) {
    case VIR_DOMAIN_NOSTATE: return "nostate";
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_SHUTOFF: return "shutoff";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    default: return "nostate";
  }
}

namespace {

struct DomInfo {
  std::string uuid;
  std::string name;
  int id = -1;
  int state = 0;
  uint64_t maxMem = 0;
  uint64_t memory = 0;
  unsigned nrVirtCpu = 0;
  uint64_t cpuTime = 0;
  bool persistent = false;
  bool active = false;
};

// Fills `out` for one domain; false (with the thread's libvirt error set) on failure.
bool ReadInfo(virDomainPtr dom, DomInfo& out) {
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, uuid) < 0) return false;
  out.uuid = uuid;
  const char* name = virDomainGetName(dom);
  out.name = name ? name : "";
  unsigned int id = virDomainGetID(dom);
  out.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int>(id);
  virDomainInfo info;
  if (virDomainGetInfo(dom, &info) < 0) return false;
  out.state = info.state;
  out.maxMem = info.maxMem;
  out.memory = info.memory;
  out.nrVirtCpu = info.nrVirtCpu;
  out.cpuTime = info.cpuTime;
  int p = virDomainIsPersistent(dom);
  if (p < 0) virResetLastError();
  out.persistent = p == 1;
  // An inactive domain has no id: saves an RPC per domain versus virDomainIsActive.
  out.active = out.id >= 0;
  return true;
}

Napi::Object InfoToJs(Napi::Env env, const DomInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("uuid", Napi::String::New(env, d.uuid));
  o.Set("name", Napi::String::New(env, d.name));
  o.Set("id", Napi::Number::New(env, d.id));
  o.Set("state", Napi::String::New(env, DomainStateName(d.state)));
  o.Set("stateCode", Napi::Number::New(env, d.state));
  o.Set("maxMemKiB", Napi::BigInt::New(env, d.maxMem));
  o.Set("memoryKiB", Napi::BigInt::New(env, d.memory));
  o.Set("nrVirtCpu", Napi::Number::New(env, d.nrVirtCpu));
  o.Set("cpuTimeNs", Napi::BigInt::New(env, d.cpuTime));
  o.Set("persistent", Napi::Boolean::New(env, d.persistent));
  o.Set("active", Napi::Boolean::New(env, d.active));
  return o;
}

class ListTask : public Task {
 public:
  ListTask(virConnectPtr c, unsigned flags) : Task(c), flags_(flags) {}
  void Run() override {
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(conn(), &doms, flags_);
    if (n < 0) return FailLibvirt("virConnectListAllDomains");
    out_.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
      DomInfo d;
      // A domain that vanished between list and info is simply left out.
      if (ReadInfo(doms[i], d)) out_.push_back(std::move(d));
      else virResetLastError();
      virDomainFree(doms[i]);
    }
    free(doms);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) arr.Set(static_cast<uint32_t>(i), InfoToJs(env, out_[i]));
    return arr;
  }

 private:
  unsigned flags_;
  std::vector<DomInfo> out_;
};

class InfoTask : public Task {
 public:
  InfoTask(virConnectPtr c, std::string uuid) : Task(c), uuid_(std::move(uuid)) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    if (!ReadInfo(d.dom, info_)) FailLibvirt("virDomainGetInfo");
  }
  Napi::Value Result(Napi::Env env) override { return InfoToJs(env, info_); }

 private:
  std::string uuid_;
  DomInfo info_;
};

class XmlTask : public Task {
 public:
  XmlTask(virConnectPtr c, std::string uuid, unsigned flags) : Task(c), uuid_(std::move(uuid)), flags_(flags) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    char* x = virDomainGetXMLDesc(d.dom, flags_);
    if (!x) return FailLibvirt("virDomainGetXMLDesc");
    xml_ = x;
    free(x);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, xml_); }

 private:
  std::string uuid_;
  unsigned flags_;
  std::string xml_;
};

enum class Op { CREATE, DESTROY, SHUTDOWN, SUSPEND, RESUME, REBOOT, UNDEFINE };

class OpTask : public Task {
 public:
  OpTask(virConnectPtr c, std::string uuid, Op op, unsigned flags)
      : Task(c), uuid_(std::move(uuid)), op_(op), flags_(flags) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    int r = -1;
    const char* what = "";
    switch (op_) {
      case Op::CREATE: what = "virDomainCreate"; r = virDomainCreateWithFlags(d.dom, flags_); break;
      case Op::DESTROY: what = "virDomainDestroy"; r = virDomainDestroyFlags(d.dom, flags_); break;
      case Op::SHUTDOWN: what = "virDomainShutdown"; r = virDomainShutdownFlags(d.dom, flags_); break;
      case Op::SUSPEND: what = "virDomainSuspend"; r = virDomainSuspend(d.dom); break;
      case Op::RESUME: what = "virDomainResume"; r = virDomainResume(d.dom); break;
      case Op::REBOOT: what = "virDomainReboot"; r = virDomainReboot(d.dom, flags_); break;
      case Op::UNDEFINE:
        what = "virDomainUndefine";
        r = virDomainUndefineFlags(d.dom, flags_);
        if (r < 0 && flags_ == 0) {
          virErrorPtr e = virGetLastError();
          if (e && e->code == VIR_ERR_NO_SUPPORT) r = virDomainUndefine(d.dom);
        }
        break;
    }
    if (r < 0) FailLibvirt(what);
  }

 private:
  std::string uuid_;
  Op op_;
  unsigned flags_;
};

class DefineTask : public Task {
 public:
  DefineTask(virConnectPtr c, std::string xml, bool start, unsigned flags)
      : Task(c), xml_(std::move(xml)), start_(start), flags_(flags) {}
  void Run() override {
    virDomainPtr d = start_ ? virDomainCreateXML(conn(), xml_.c_str(), flags_)
                            : virDomainDefineXMLFlags(conn(), xml_.c_str(), flags_);
    if (!d) return FailLibvirt(start_ ? "virDomainCreateXML" : "virDomainDefineXML");
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(d, uuid) == 0) uuid_ = uuid;
    virDomainFree(d);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, uuid_); }

 private:
  std::string xml_;
  bool start_;
  unsigned flags_;
  std::string uuid_;
};

}  // namespace

Napi::Value Connection::ListAllDomains(const Napi::CallbackInfo& info) {
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<ListTask>(conn_, ArgFlags(info, 0)));
}

Napi::Value Connection::DomainInfo(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<InfoTask>(conn_, uuid));
}

Napi::Value Connection::DomainXml(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<XmlTask>(conn_, uuid, ArgFlags(info, 1)));
}

// lifecycle(op: 'create'|'destroy'|'shutdown'|'suspend'|'resume'|'reboot', uuid, flags?)
Napi::Value Connection::Lifecycle(const Napi::CallbackInfo& info) {
  std::string opName = ArgString(info, 0, "op");
  std::string uuid = ArgString(info, 1, "uuid");
  Op op;
  if (opName == "create") op = Op::CREATE;
  else if (opName == "destroy") op = Op::DESTROY;
  else if (opName == "shutdown") op = Op::SHUTDOWN;
  else if (opName == "suspend") op = Op::SUSPEND;
  else if (opName == "resume") op = Op::RESUME;
  else if (opName == "reboot") op = Op::REBOOT;
  else throw Napi::TypeError::New(info.Env(), "unknown lifecycle op " + opName);
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<OpTask>(conn_, uuid, op, ArgFlags(info, 2)));
}

Napi::Value Connection::Undefine(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<OpTask>(conn_, uuid, Op::UNDEFINE, ArgFlags(info, 1)));
}

Napi::Value Connection::DefineXml(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<DefineTask>(conn_, xml, false, ArgFlags(info, 1)));
}

Napi::Value Connection::CreateXml(const Napi::CallbackInfo& info) {
  std::string xml = ArgString(info, 0, "xml");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<DefineTask>(conn_, xml, true, ArgFlags(info, 1)));
}

}  // namespace vmp
