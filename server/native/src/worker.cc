// Running Tasks off the main thread: libuv pool (AsyncWorker) or own thread.
#include "common.h"

#include <thread>

namespace vmp {

DomainPtr Task::Lookup(const std::string& uuid) {
  virDomainPtr d = virDomainLookupByUUIDString(conn(), uuid.c_str());
  if (d == nullptr) FailLibvirt("virDomainLookupByUUIDString");
  return DomainPtr(d);
}

namespace {

void Settle(Napi::Env env, Napi::Promise::Deferred& deferred, Task& task) {
  if (task.failed()) {
    deferred.Reject(MakeJsError(env, task.error()).Value());
    return;
  }
  try {
    deferred.Resolve(task.Result(env));
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());
  }
}

class PoolWorker : public Napi::AsyncWorker {
 public:
  PoolWorker(Napi::Env env, std::unique_ptr<Task> task)
      : Napi::AsyncWorker(env, "vmpulse:libvirt"), deferred_(Napi::Promise::Deferred::New(env)), task_(std::move(task)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    task_->Run();
    // Drop the worker's connection ref here, not on the JS thread: the last
    // unref of a remote connection closes its socket.
    task_->ReleaseConnection();
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    Settle(Env(), deferred_, *task_);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Task> task_;
};

struct ThreadJob {
  Napi::Promise::Deferred deferred;
  std::unique_ptr<Task> task;
};

}  // namespace

Napi::Promise QueueTask(Napi::Env env, std::unique_ptr<Task> task) {
  auto* w = new PoolWorker(env, std::move(task));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Promise RunTaskOnOwnThread(Napi::Env env, std::unique_ptr<Task> task) {
  auto* job = new ThreadJob{Napi::Promise::Deferred::New(env), std::move(task)};
  Napi::Promise p = job->deferred.Promise();
  // A no-op function: the TSFN is only used to hop back to the JS thread. It
  // stays ref'd while the job runs so a pending dump keeps the process alive.
  Napi::Function noop = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  Napi::ThreadSafeFunction tsfn = Napi::ThreadSafeFunction::New(env, noop, "vmpulse:libvirt-thread", 0, 1);
  std::thread([job, tsfn]() mutable {
    job->task->Run();
    job->task->ReleaseConnection();
    napi_status st = tsfn.BlockingCall(job, [](Napi::Env env, Napi::Function, ThreadJob* j) {
      Napi::HandleScope scope(env);
      Settle(env, j->deferred, *j->task);
      delete j;
    });
    if (st != napi_ok) delete job;  // environment is shutting down
    tsfn.Release();
  }).detach();
  return p;
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

uint32_t ArgFlags(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return 0;
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "flags must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

bool OptBool(const Napi::Object& o, const char* key, bool dflt) {
  if (!o.Has(key)) return dflt;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  return v.ToBoolean().Value();
}

}  // namespace vmp
