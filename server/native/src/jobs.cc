// Domain jobs as a migration source: a bulk job scan (one task for many domains: job info, and
// full job stats + block job info only where a job runs), and job events (block job, migration
// iteration, job completed) delivered to one JS function.
#include "common.h"

#include <cstdlib>

namespace vmp {

namespace {

struct ScanItem {
  std::string uuid;
  std::vector<std::string> disks;
  bool haveDisks = false;
};

struct BlockJobState {
  std::string disk;
  int type = 0;
  unsigned long bandwidth = 0;
  unsigned long long cur = 0;
  unsigned long long end = 0;
};

struct ScanResult {
  std::string uuid;
  std::vector<std::string> disks;
  bool devicesFetched = false;
  int jobType = VIR_DOMAIN_JOB_NONE;
  ParamList job;
  std::vector<BlockJobState> blockJobs;
};

// For each domain: virDomainGetJobInfo (answered from libvirt's own job state) and, per disk,
// virDomainGetBlockJobInfo; virDomainGetJobStats only for a domain whose job runs. Domains with
// nothing to report (and no devices newly read) are left out of the answer.
class ScanJobsTask : public Task {
 public:
  ScanJobsTask(virConnectPtr c, std::vector<ScanItem> items, bool blockJobs)
      : Task(c), items_(std::move(items)), blockJobs_(blockJobs) {}

  void Run() override {
    for (auto& it : items_) {
      DomainPtr d(virDomainLookupByUUIDString(conn(), it.uuid.c_str()));
      if (!d) {
        virResetLastError();
        continue;
      }
      if (virDomainIsActive(d.dom) != 1) {
        virResetLastError();
        continue;
      }
      ScanResult r;
      r.uuid = it.uuid;
      if (it.haveDisks) {
        r.disks = it.disks;
      } else if (blockJobs_) {
        char* xml = virDomainGetXMLDesc(d.dom, 0);
        if (xml) {
          r.disks = ExtractTargetDevs(xml, "disk");
          r.devicesFetched = true;
          free(xml);
        } else {
          virResetLastError();
        }
      }
      virDomainJobInfo ji;
      if (virDomainGetJobInfo(d.dom, &ji) == 0) r.jobType = ji.type;
      else virResetLastError();
      if (r.jobType != VIR_DOMAIN_JOB_NONE) {
        virTypedParameterPtr params = nullptr;
        int n = 0;
        int type = 0;
        if (virDomainGetJobStats(d.dom, &type, &params, &n, 0) == 0) {
          AppendTypedParams(r.job, params, n);
          virTypedParamsFree(params, n);
        } else {
          virResetLastError();
        }
      }
      if (blockJobs_) {
        for (const auto& disk : r.disks) {
          virDomainBlockJobInfo bi;
          int rc = virDomainGetBlockJobInfo(d.dom, disk.c_str(), &bi, 0);
          if (rc == 1) r.blockJobs.push_back({disk, bi.type, bi.bandwidth, bi.cur, bi.end});
          else if (rc < 0) virResetLastError();
        }
      }
      if (r.devicesFetched || r.jobType != VIR_DOMAIN_JOB_NONE || !r.blockJobs.empty()) out_.push_back(std::move(r));
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      const ScanResult& r = out_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("uuid", Napi::String::New(env, r.uuid));
      if (r.devicesFetched) {
        Napi::Array disks = Napi::Array::New(env, r.disks.size());
        for (size_t k = 0; k < r.disks.size(); k++) disks.Set(k, Napi::String::New(env, r.disks[k]));
        o.Set("disks", disks);
      }
      o.Set("jobType", Napi::Number::New(env, r.jobType));
      if (r.jobType != VIR_DOMAIN_JOB_NONE) o.Set("job", ParamsToObject(env, r.job));
      Napi::Array bj = Napi::Array::New(env, r.blockJobs.size());
      for (size_t k = 0; k < r.blockJobs.size(); k++) {
        const BlockJobState& b = r.blockJobs[k];
        Napi::Object j = Napi::Object::New(env);
        j.Set("disk", Napi::String::New(env, b.disk));
        j.Set("type", Napi::Number::New(env, b.type));
        j.Set("bandwidth", Napi::Number::New(env, static_cast<double>(b.bandwidth)));
        j.Set("cur", Napi::BigInt::New(env, static_cast<uint64_t>(b.cur)));
        j.Set("end", Napi::BigInt::New(env, static_cast<uint64_t>(b.end)));
        bj.Set(k, j);
      }
      o.Set("blockJobs", bj);
      arr.Set(i, o);
    }
    return arr;
  }

 private:
  std::vector<ScanItem> items_;
  bool blockJobs_;
  std::vector<ScanResult> out_;
};

// ---- job events --------------------------------------------------------------------------------

struct JobEvent {
  std::string kind;  // blockJob | migrationIteration | jobCompleted
  std::string uuid;
  std::string name;
  std::string disk;
  int type = 0;
  int status = 0;
  int iteration = 0;
  ParamList params;
};

// One JS function fed from libvirt's event-loop thread; freed when its last callback is.
class JobEventSink {
 public:
  static JobEventSink* Create(Napi::Env env, Napi::Function fn) {
    auto* s = new JobEventSink();
    s->tsfn_ = Napi::ThreadSafeFunction::New(env, fn, "vmpulse:libvirt-job-events", 0, 1);
    s->tsfn_.Unref(env);
    return s;
  }
  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) {
      tsfn_.Release();
      delete this;
    }
  }
  static void Free(void* opaque) { static_cast<JobEventSink*>(opaque)->Unref(); }
  void Post(JobEvent* e) {
    if (tsfn_.NonBlockingCall(e, Deliver) != napi_ok) delete e;
  }

 private:
  static void Deliver(Napi::Env env, Napi::Function fn, JobEvent* e) {
    if (env != nullptr && fn != nullptr) {
      Napi::HandleScope scope(env);
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", Napi::String::New(env, e->kind));
      o.Set("uuid", Napi::String::New(env, e->uuid));
      o.Set("name", Napi::String::New(env, e->name));
      if (e->kind == "blockJob") {
        o.Set("disk", Napi::String::New(env, e->disk));
        o.Set("type", Napi::Number::New(env, e->type));
        o.Set("status", Napi::Number::New(env, e->status));
      } else if (e->kind == "migrationIteration") {
        o.Set("iteration", Napi::Number::New(env, e->iteration));
      } else {
        o.Set("params", ParamsToObject(env, e->params));
      }
      try {
        fn.Call({o});
      } catch (const Napi::Error& err) {
        fprintf(stderr, "vmpulse libvirt job event listener threw: %s\n", err.Message().c_str());
      }
    }
    delete e;
  }
  JobEventSink() = default;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<int> refs_{1};
};

JobEvent* NewEvent(const char* kind, virDomainPtr dom) {
  auto* e = new JobEvent();
  e->kind = kind;
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  if (virDomainGetUUIDString(dom, uuid) < 0) virResetLastError();
  e->uuid = uuid;
  const char* name = virDomainGetName(dom);
  e->name = name ? name : "";
  return e;
}

int OnBlockJob(virConnectPtr, virDomainPtr dom, const char* disk, int type, int status, void* opaque) {
  JobEvent* e = NewEvent("blockJob", dom);
  e->disk = disk ? disk : "";
  e->type = type;
  e->status = status;
  static_cast<JobEventSink*>(opaque)->Post(e);
  return 0;
}

int OnMigrationIteration(virConnectPtr, virDomainPtr dom, int iteration, void* opaque) {
  JobEvent* e = NewEvent("migrationIteration", dom);
  e->iteration = iteration;
  static_cast<JobEventSink*>(opaque)->Post(e);
  return 0;
}

int OnJobCompleted(virConnectPtr, virDomainPtr dom, virTypedParameterPtr params, int n, void* opaque) {
  JobEvent* e = NewEvent("jobCompleted", dom);
  AppendTypedParams(e->params, params, n);
  static_cast<JobEventSink*>(opaque)->Post(e);
  return 0;
}

class WatchJobsTask : public Task {
 public:
  WatchJobsTask(virConnectPtr c, JobEventSink* sink) : Task(c), sink_(sink) {}
  ~WatchJobsTask() override { sink_->Unref(); }  // the creation ref; each callback holds its own
  void Run() override {
    struct Reg {
      int id;
      virConnectDomainEventGenericCallback cb;
    } regs[] = {
        {VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(OnBlockJob)},
        {VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, VIR_DOMAIN_EVENT_CALLBACK(OnMigrationIteration)},
        {VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(OnJobCompleted)},
    };
    for (const auto& r : regs) {
      sink_->Ref();
      int id = virConnectDomainEventRegisterAny(conn(), nullptr, r.id, r.cb, sink_, JobEventSink::Free);
      if (id < 0) {
        // Some drivers lack an event kind: the others still count (and the scan covers the rest).
        virResetLastError();
        sink_->Unref();
      } else {
        ids_.push_back(id);
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array a = Napi::Array::New(env, ids_.size());
    for (size_t i = 0; i < ids_.size(); i++) a.Set(i, Napi::Number::New(env, ids_[i]));
    return a;
  }

 private:
  JobEventSink* sink_;
  std::vector<int> ids_;
};

class UnwatchJobsTask : public Task {
 public:
  UnwatchJobsTask(virConnectPtr c, std::vector<int> ids) : Task(c), ids_(std::move(ids)) {}
  void Run() override {
    for (int id : ids_)
      if (virConnectDomainEventDeregisterAny(conn(), id) < 0) virResetLastError();
  }

 private:
  std::vector<int> ids_;
};

std::vector<std::string> StringArray(const Napi::Value& v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value x = a.Get(i);
    if (x.IsString()) out.push_back(x.As<Napi::String>().Utf8Value());
  }
  return out;
}

}  // namespace

// scanJobs(items: Array<{uuid, disks?}>, opts?: {blockJobs?: boolean})
Napi::Value Connection::ScanJobs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "items must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<ScanItem> items;
  items.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    ScanItem it;
    if (v.IsString()) {
      it.uuid = v.As<Napi::String>().Utf8Value();
    } else if (v.IsObject()) {
      Napi::Object o = v.As<Napi::Object>();
      it.uuid = o.Get("uuid").ToString().Utf8Value();
      if (o.Has("disks") && o.Get("disks").IsArray()) {
        it.disks = StringArray(o.Get("disks"));
        it.haveDisks = true;
      }
    } else {
      throw Napi::TypeError::New(env, "each item is a uuid or {uuid, disks}");
    }
    items.push_back(std::move(it));
  }
  bool blockJobs = true;
  if (info.Length() > 1 && info[1].IsObject()) blockJobs = OptBool(info[1].As<Napi::Object>(), "blockJobs", true);
  if (closed()) return RejectClosed(env);
  return QueueTask(env, std::make_unique<ScanJobsTask>(conn_, std::move(items), blockJobs));
}

// watchJobEvents(fn) → ids of the registered callbacks
Napi::Value Connection::WatchJobEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "a listener function is required");
  if (closed()) return RejectClosed(env);
  JobEventSink* sink = JobEventSink::Create(env, info[0].As<Napi::Function>());
  return QueueTask(env, std::make_unique<WatchJobsTask>(conn_, sink));
}

// unwatchJobEvents(ids)
Napi::Value Connection::UnwatchJobEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> ids;
  if (info.Length() > 0 && info[0].IsArray()) {
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) ids.push_back(a.Get(i).ToNumber().Int32Value());
  }
  if (closed()) {  // closing the connection already dropped its callbacks
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  return QueueTask(env, std::make_unique<UnwatchJobsTask>(conn_, std::move(ids)));
}

}  // namespace vmp
