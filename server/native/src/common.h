// Shared declarations of the vmpulse libvirt addon.
#pragma once

#include <napi.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vmp {

// ---- errors.cc -------------------------------------------------------------

// A libvirt error copied off the thread that saw it (virGetLastError is
// thread-local, so it must be read on the worker right after the failed call).
struct LvError {
  int code = VIR_ERR_INTERNAL_ERROR;
  int domain = VIR_FROM_NONE;
  std::string message;
};

// Copy the calling thread's last libvirt error (or a generic one naming `what`).
LvError CaptureLastError(const char* what);
// JS Error with message, code, domain (and libvirtMessage).
Napi::Error MakeJsError(Napi::Env env, const LvError& err);
void InstallQuietErrorHandler();

// ---- typed_params.cc -------------------------------------------------------

// A typed value copied out of libvirt memory on the worker thread, turned into
// JS on the main thread (64-bit ints become BigInt).
struct Param {
  enum Kind : uint8_t { I32, U32, I64, U64, F64, BOOL, STR } kind;
  std::string key;
  union {
    int32_t i;
    uint32_t u;
    int64_t l;
    uint64_t ul;
    double d;
    bool b;
  };
  std::string s;

  static Param Int(std::string k, int32_t v) { Param p; p.kind = I32; p.key = std::move(k); p.i = v; return p; }
  static Param UInt(std::string k, uint32_t v) { Param p; p.kind = U32; p.key = std::move(k); p.u = v; return p; }
  static Param LLong(std::string k, int64_t v) { Param p; p.kind = I64; p.key = std::move(k); p.l = v; return p; }
  static Param ULLong(std::string k, uint64_t v) { Param p; p.kind = U64; p.key = std::move(k); p.ul = v; return p; }
  static Param Double(std::string k, double v) { Param p; p.kind = F64; p.key = std::move(k); p.d = v; return p; }
  static Param Bool(std::string k, bool v) { Param p; p.kind = BOOL; p.key = std::move(k); p.b = v; return p; }
  static Param Str(std::string k, std::string v) { Param p; p.kind = STR; p.key = std::move(k); p.s = std::move(v); return p; }
};
using ParamList = std::vector<Param>;

void AppendTypedParams(ParamList& out, const virTypedParameter* params, int n, const char* renameFrom = nullptr,
                       const char* renameTo = nullptr);
Napi::Value ParamValue(Napi::Env env, const Param& p);
Napi::Object ParamsToObject(Napi::Env env, const ParamList& params);

// ---- worker.cc -------------------------------------------------------------

// RAII reference on a connection held by a worker while it runs, so closing
// the connection from JS during an in-flight call is safe.
class ConnRef {
 public:
  ConnRef() = default;
  explicit ConnRef(virConnectPtr c) : conn_(c) { if (conn_) virConnectRef(conn_); }
  ConnRef(const ConnRef&) = delete;
  ConnRef& operator=(const ConnRef&) = delete;
  ~ConnRef() { Reset(); }
  void Reset() { if (conn_) { virConnectClose(conn_); conn_ = nullptr; } }
  virConnectPtr get() const { return conn_; }
 private:
  virConnectPtr conn_ = nullptr;
};

struct DomainPtr {
  virDomainPtr dom = nullptr;
  DomainPtr() = default;
  explicit DomainPtr(virDomainPtr d) : dom(d) {}
  DomainPtr(const DomainPtr&) = delete;
  DomainPtr(DomainPtr&& o) noexcept : dom(o.dom) { o.dom = nullptr; }
  DomainPtr& operator=(DomainPtr&& o) noexcept { if (this != &o) { reset(); dom = o.dom; o.dom = nullptr; } return *this; }
  ~DomainPtr() { reset(); }
  void reset() { if (dom) { virDomainFree(dom); dom = nullptr; } }
  explicit operator bool() const { return dom != nullptr; }
};

// One blocking libvirt job: Run() on a worker thread, Result() on the main
// thread. Call Fail()/FailLibvirt() in Run() to reject the promise instead.
class Task {
 public:
  explicit Task(virConnectPtr conn) : conn_(conn) {}
  virtual ~Task() = default;
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

  bool failed() const { return failed_; }
  const LvError& error() const { return error_; }
  void ReleaseConnection() { conn_.Reset(); }

 protected:
  virConnectPtr conn() const { return conn_.get(); }
  void FailLibvirt(const char* what) { failed_ = true; error_ = CaptureLastError(what); }
  void Fail(int code, std::string message) {
    failed_ = true;
    error_.code = code;
    error_.domain = VIR_FROM_NONE;
    error_.message = std::move(message);
  }
  // Lookup by UUID string; on failure records the error and returns empty.
  DomainPtr Lookup(const std::string& uuid);

 private:
  ConnRef conn_;
  bool failed_ = false;
  LvError error_;
};

// Queue on the libuv thread pool (one AsyncWorker per call).
Napi::Promise QueueTask(Napi::Env env, std::unique_ptr<Task> task);
// Run on a dedicated std::thread (for long jobs such as core dumps, so they
// never occupy a libuv pool thread that stats/job queries need meanwhile).
Napi::Promise RunTaskOnOwnThread(Napi::Env env, std::unique_ptr<Task> task);

// ---- connection.cc ---------------------------------------------------------

// Delivers connection-level events (close callback, domain lifecycle) from
// libvirt's event-loop thread to one JS sink function. Ref-counted because
// several libvirt registrations share it; the TSFN is released with the last ref.
class EventSink {
 public:
  static EventSink* Create(Napi::Env env, Napi::Function fn);
  void Ref() { refs_.fetch_add(1); }
  void Unref();
  // Queue a call from any thread; `build` runs on the JS thread.
  void PostLifecycle(std::string uuid, std::string name, int event, int detail);
  void PostClose(int reason);
  static void FreeOpaque(void* opaque) { static_cast<EventSink*>(opaque)->Unref(); }

 private:
  EventSink() = default;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<int> refs_{1};
};

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::FunctionReference* constructor;
  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

  // Adopt an opened connection (called from the open task on the main thread).
  void Adopt(virConnectPtr conn, EventSink* sink, int lifecycleId, bool closeCbRegistered, std::string uri);
  virConnectPtr handle() const { return conn_; }

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsAlive(const Napi::CallbackInfo& info);
  Napi::Value Hostname(const Napi::CallbackInfo& info);
  Napi::Value Uri(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  // domain.cc
  Napi::Value ListAllDomains(const Napi::CallbackInfo& info);
  Napi::Value DomainInfo(const Napi::CallbackInfo& info);
  Napi::Value DomainXml(const Napi::CallbackInfo& info);
  Napi::Value Lifecycle(const Napi::CallbackInfo& info);
  Napi::Value DefineXml(const Napi::CallbackInfo& info);
  Napi::Value CreateXml(const Napi::CallbackInfo& info);
  Napi::Value Undefine(const Napi::CallbackInfo& info);
  // stats.cc
  Napi::Value GetAllDomainStats(const Napi::CallbackInfo& info);
  Napi::Value MemoryStats(const Napi::CallbackInfo& info);
  Napi::Value InterfaceStats(const Napi::CallbackInfo& info);
  Napi::Value BlockStats(const Napi::CallbackInfo& info);
  Napi::Value Vcpus(const Napi::CallbackInfo& info);
  Napi::Value CpuStats(const Napi::CallbackInfo& info);
  // per_domain_stats.cc
  Napi::Value DomainStatsPerCall(const Napi::CallbackInfo& info);
  // dump_job.cc
  Napi::Value CoreDump(const Napi::CallbackInfo& info);
  Napi::Value JobStats(const Napi::CallbackInfo& info);
  Napi::Value AbortJob(const Napi::CallbackInfo& info);
  // jobs.cc
  Napi::Value ScanJobs(const Napi::CallbackInfo& info);
  Napi::Value WatchJobEvents(const Napi::CallbackInfo& info);
  Napi::Value UnwatchJobEvents(const Napi::CallbackInfo& info);
  // storage_stream.cc
  Napi::Value StoragePoolEnsureDir(const Napi::CallbackInfo& info);
  Napi::Value StorageVolDelete(const Napi::CallbackInfo& info);
  Napi::Value StorageVolDownload(const Napi::CallbackInfo& info);
  // metadata.cc
  Napi::Value DomainMetadata(const Napi::CallbackInfo& info);
  Napi::Value SetDomainMetadata(const Napi::CallbackInfo& info);
  // pool_info.cc
  Napi::Value StoragePoolInfo(const Napi::CallbackInfo& info);

  // Returns the live handle or throws a JS error if closed.
  virConnectPtr Live(Napi::Env env);
  Napi::Value RejectClosed(Napi::Env env);
  bool closed() const { return conn_ == nullptr; }

  virConnectPtr conn_ = nullptr;
  EventSink* sink_ = nullptr;
  int lifecycleId_ = -1;
  bool closeCbRegistered_ = false;
  std::string uri_;
};

Napi::Value Open(const Napi::CallbackInfo& info);

// ---- events.cc -------------------------------------------------------------

void StartEventLoopOnce();
int RegisterLifecycle(virConnectPtr conn, EventSink* sink);  // returns callback id or -1
void CloseCallback(virConnectPtr conn, int reason, void* opaque);
const char* LifecycleEventName(int event);

// ---- domain.cc helpers -----------------------------------------------------

const char* DomainStateName(int state);

// ---- per_domain_stats.cc helpers -------------------------------------------

// Target devs of <interface> / <disk> elements in domain XML.
std::vector<std::string> ExtractTargetDevs(const std::string& xml, const char* element);

// Small argument helpers.
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);
uint32_t ArgFlags(const Napi::CallbackInfo& info, size_t i);
bool OptBool(const Napi::Object& o, const char* key, bool dflt);

// ---- gzip_pipeline.cc --------------------------------------------------------

// gzipPipeline(options, onEvent): the memory-dump pipeline's hash + gzip engine (own threads).
Napi::Value GzipPipeline(const Napi::CallbackInfo& info);
// mkfifo(path, mode), synchronous (one syscall).
Napi::Value MakeFifo(const Napi::CallbackInfo& info);

// ---- malloc_trim.cc -------------------------------------------------------------

// mallocTrim(): malloc_trim(0) on the libuv pool; a promise of true when memory was given back.
Napi::Value MallocTrim(const Napi::CallbackInfo& info);

}  // namespace vmp
