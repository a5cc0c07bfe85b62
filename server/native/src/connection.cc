// Connection object: open/close, keepalive, close callback, hostname/uri.
#include "common.h"

#include <thread>

namespace vmp {

Napi::FunctionReference* Connection::constructor = nullptr;

// ---- EventSink -------------------------------------------------------------

namespace {
struct SinkMessage {
  bool isClose = false;
  int reason = 0;
  std::string uuid;
  std::string name;
  int event = 0;
  int detail = 0;
};
}  // namespace

EventSink* EventSink::Create(Napi::Env env, Napi::Function fn) {
  auto* sink = new EventSink();
  sink->tsfn_ = Napi::ThreadSafeFunction::New(env, fn, "vmpulse:libvirt-events", 0, 1);
  // Listening for events must not keep the process alive on its own.
  sink->tsfn_.Unref(env);
  return sink;
}

void EventSink::Unref() {
  if (refs_.fetch_sub(1) == 1) {
    tsfn_.Release();
    delete this;
  }
}

static void DeliverSinkMessage(Napi::Env env, Napi::Function fn, SinkMessage* m) {
  if (env != nullptr && fn != nullptr) {
    Napi::HandleScope scope(env);
    Napi::Object payload = Napi::Object::New(env);
    if (m->isClose) {
      payload.Set("reason", Napi::Number::New(env, m->reason));
      static const char* reasons[] = {"error", "eof", "keepalive", "client"};
      payload.Set("reasonName",
                  Napi::String::New(env, m->reason >= 0 && m->reason < 4 ? reasons[m->reason] : "unknown"));
    } else {
      payload.Set("uuid", Napi::String::New(env, m->uuid));
      payload.Set("name", Napi::String::New(env, m->name));
      payload.Set("event", Napi::String::New(env, LifecycleEventName(m->event)));
      payload.Set("eventCode", Napi::Number::New(env, m->event));
      payload.Set("detail", Napi::Number::New(env, m->detail));
    }
    try {
      fn.Call({Napi::String::New(env, m->isClose ? "close" : "lifecycle"), payload});
    } catch (const Napi::Error& e) {
      // A throwing listener must not take down the event delivery.
      fprintf(stderr, "vmpulse libvirt event listener threw: %s\n", e.Message().c_str());
    }
  }
  delete m;
}

void EventSink::PostLifecycle(std::string uuid, std::string name, int event, int detail) {
  auto* m = new SinkMessage();
  m->uuid = std::move(uuid);
  m->name = std::move(name);
  m->event = event;
  m->detail = detail;
  if (tsfn_.NonBlockingCall(m, DeliverSinkMessage) != napi_ok) delete m;
}

void EventSink::PostClose(int reason) {
  auto* m = new SinkMessage();
  m->isClose = true;
  m->reason = reason;
  if (tsfn_.NonBlockingCall(m, DeliverSinkMessage) != napi_ok) delete m;
}

// ---- teardown shared by close() and the GC finalizer --------------------------

static void TearDown(virConnectPtr conn, EventSink* sink, int lifecycleId, bool closeCb) {
  if (lifecycleId >= 0) virConnectDomainEventDeregisterAny(conn, lifecycleId);
  if (closeCb) virConnectUnregisterCloseCallback(conn, CloseCallback);
  virResetLastError();
  virConnectClose(conn);
  if (sink) sink->Unref();
}

namespace {

class OpenTask : public Task {
 public:
  OpenTask(std::string uri, bool readOnly, EventSink* sink, bool events)
      : Task(nullptr), uri_(std::move(uri)), readOnly_(readOnly), sink_(sink), events_(events) {}
  ~OpenTask() override {
    if (conn_) TearDown(conn_, sink_, lifecycleId_, closeCb_);  // never adopted
    else if (sink_) sink_->Unref();
  }
  void Run() override {
    conn_ = virConnectOpenAuth(uri_.empty() ? nullptr : uri_.c_str(), virConnectAuthPtrDefault,
                               readOnly_ ? VIR_CONNECT_RO : 0);
    if (conn_ == nullptr) {
      FailLibvirt("virConnectOpenAuth");
      return;
    }
    // Detect dead remote peers; local/test drivers refuse keepalive, which is fine.
    if (virConnectSetKeepAlive(conn_, 5, 3) < 0) virResetLastError();
    if (sink_) {
      sink_->Ref();
      if (virConnectRegisterCloseCallback(conn_, CloseCallback, sink_, EventSink::FreeOpaque) == 0) {
        closeCb_ = true;
      } else {
        virResetLastError();  // ref leaked on purpose (see RegisterLifecycle)
      }
      if (events_) {
        lifecycleId_ = RegisterLifecycle(conn_, sink_);
        if (lifecycleId_ < 0) {
          LvError e = CaptureLastError("virConnectDomainEventRegisterAny");
          // Not fatal for drivers without events; surfaced via eventsError.
          eventsError_ = e.message;
        }
      }
    }
    char* u = virConnectGetURI(conn_);
    if (u) {
      actualUri_ = u;
      free(u);
    } else {
      virResetLastError();
      actualUri_ = uri_;
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object obj = Connection::constructor->New({});
    Connection* c = Connection::Unwrap(obj);
    c->Adopt(conn_, sink_, lifecycleId_, closeCb_, actualUri_);
    conn_ = nullptr;
    sink_ = nullptr;
    if (!eventsError_.empty()) obj.Set("eventsError", Napi::String::New(env, eventsError_));
    return obj;
  }

 private:
  std::string uri_;
  bool readOnly_;
  EventSink* sink_;
  bool events_;
  virConnectPtr conn_ = nullptr;
  int lifecycleId_ = -1;
  bool closeCb_ = false;
  std::string actualUri_;
  std::string eventsError_;
};

class CloseTask : public Task {
 public:
  CloseTask(virConnectPtr c, EventSink* s, int id, bool cb)
      : Task(nullptr), c_(c), s_(s), id_(id), cb_(cb) {}
  void Run() override { TearDown(c_, s_, id_, cb_); }

 private:
  virConnectPtr c_;
  EventSink* s_;
  int id_;
  bool cb_;
};

class StringTask : public Task {
 public:
  enum What { HOSTNAME, URI };
  StringTask(virConnectPtr c, What w) : Task(c), what_(w) {}
  void Run() override {
    char* s = what_ == HOSTNAME ? virConnectGetHostname(conn()) : virConnectGetURI(conn());
    if (!s) return FailLibvirt(what_ == HOSTNAME ? "virConnectGetHostname" : "virConnectGetURI");
    value_ = s;
    free(s);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, value_); }

 private:
  What what_;
  std::string value_;
};

}  // namespace

// open(uri: string, readOnly: boolean, sink?: (kind, payload) => void, events?: boolean)
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string uri = ArgString(info, 0, "uri");
  bool readOnly = info.Length() > 1 && info[1].ToBoolean().Value();
  EventSink* sink = nullptr;
  if (info.Length() > 2 && info[2].IsFunction()) sink = EventSink::Create(env, info[2].As<Napi::Function>());
  bool events = info.Length() <= 3 || info[3].IsUndefined() || info[3].ToBoolean().Value();
  return QueueTask(env, std::make_unique<OpenTask>(uri, readOnly, sink, events));
}

Napi::Function Connection::Init(Napi::Env env) {
  Napi::Function fn = DefineClass(
      env, "Connection",
      {
          InstanceMethod<&Connection::Close>("close"),
          InstanceMethod<&Connection::IsAlive>("isAlive"),
          InstanceMethod<&Connection::IsClosed>("isClosed"),
          InstanceMethod<&Connection::Hostname>("hostname"),
          InstanceMethod<&Connection::Uri>("uri"),
          InstanceMethod<&Connection::ListAllDomains>("listAllDomains"),
          InstanceMethod<&Connection::DomainInfo>("domainInfo"),
          InstanceMethod<&Connection::DomainXml>("domainXml"),
          InstanceMethod<&Connection::Lifecycle>("lifecycle"),
          InstanceMethod<&Connection::DefineXml>("defineXML"),
          InstanceMethod<&Connection::CreateXml>("createXML"),
          InstanceMethod<&Connection::Undefine>("undefine"),
          InstanceMethod<&Connection::GetAllDomainStats>("getAllDomainStats"),
          InstanceMethod<&Connection::MemoryStats>("memoryStats"),
          InstanceMethod<&Connection::InterfaceStats>("interfaceStats"),
          InstanceMethod<&Connection::BlockStats>("blockStats"),
          InstanceMethod<&Connection::Vcpus>("vcpus"),
          InstanceMethod<&Connection::CpuStats>("cpuStats"),
          InstanceMethod<&Connection::DomainStatsPerCall>("domainStatsPerCall"),
          InstanceMethod<&Connection::CoreDump>("coreDump"),
          InstanceMethod<&Connection::JobStats>("jobStats"),
          InstanceMethod<&Connection::ScanJobs>("scanJobs"),
          InstanceMethod<&Connection::WatchJobEvents>("watchJobEvents"),
          InstanceMethod<&Connection::UnwatchJobEvents>("unwatchJobEvents"),
          InstanceMethod<&Connection::AbortJob>("abortJob"),
          InstanceMethod<&Connection::StoragePoolEnsureDir>("storagePoolEnsureDir"),
          InstanceMethod<&Connection::StorageVolDelete>("storageVolDelete"),
          InstanceMethod<&Connection::StorageVolDownload>("storageVolDownload"),
          InstanceMethod<&Connection::DomainMetadata>("domainMetadata"),
          InstanceMethod<&Connection::SetDomainMetadata>("setDomainMetadata"),
          InstanceMethod<&Connection::StoragePoolInfo>("storagePoolInfo"),
      });
  constructor = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

Connection::Connection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Connection>(info) {}

Connection::~Connection() {
  // Collected without close(): tear down off the JS thread (may do RPCs).
  if (conn_) {
    virConnectPtr c = conn_;
    EventSink* s = sink_;
    int id = lifecycleId_;
    bool cb = closeCbRegistered_;
    conn_ = nullptr;
    sink_ = nullptr;
    std::thread([c, s, id, cb]() { TearDown(c, s, id, cb); }).detach();
  } else if (sink_) {
    sink_->Unref();
  }
}

void Connection::Adopt(virConnectPtr conn, EventSink* sink, int lifecycleId, bool closeCb, std::string uri) {
  conn_ = conn;
  sink_ = sink;
  lifecycleId_ = lifecycleId;
  closeCbRegistered_ = closeCb;
  uri_ = std::move(uri);
}

Napi::Value Connection::RejectClosed(Napi::Env env) {
  LvError e;
  e.code = VIR_ERR_INVALID_CONN;
  e.domain = VIR_FROM_NONE;
  e.message = "connection is closed";
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(MakeJsError(env, e).Value());
  return d.Promise();
}

virConnectPtr Connection::Live(Napi::Env env) { return conn_; }

Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed()) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  auto task = std::make_unique<CloseTask>(conn_, sink_, lifecycleId_, closeCbRegistered_);
  conn_ = nullptr;
  sink_ = nullptr;
  lifecycleId_ = -1;
  closeCbRegistered_ = false;
  return QueueTask(env, std::move(task));
}

Napi::Value Connection::IsAlive(const Napi::CallbackInfo& info) {
  // virConnectIsAlive only inspects client state; it never blocks.
  if (closed()) return Napi::Boolean::New(info.Env(), false);
  int r = virConnectIsAlive(conn_);
  if (r < 0) virResetLastError();
  return Napi::Boolean::New(info.Env(), r == 1);
}

Napi::Value Connection::IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed()); }

Napi::Value Connection::Hostname(const Napi::CallbackInfo& info) {
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<StringTask>(conn_, StringTask::HOSTNAME));
}

Napi::Value Connection::Uri(const Napi::CallbackInfo& info) {
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<StringTask>(conn_, StringTask::URI));
}

}  // namespace vmp
