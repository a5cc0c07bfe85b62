// malloc_trim(0) for a long-running server (RSS). Measured at 1,000 VMs (bench/README.md, "Memory"):
// with glibc's defaults the process held ~135 MB of malloc'd memory of which ~30 MB was in use.
// Every thread that calls malloc gets an arena of its own (libuv's pool, 16 threads here, runs the
// libvirt calls), and each arena keeps the high-water mark of the transient buffers that went
// through it (a tick's stats records, libvirt's RPC messages): glibc gives back only a heap's free
// top, and only above M_TRIM_THRESHOLD, which its dynamic mmap threshold raises up to 32 MiB.
// Capping the arenas (MALLOC_ARENA_MAX=2, or mallopt at load) did not lower the RSS in the bench.
#include "common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace vmp {

namespace {

// malloc_trim(0) walks every arena under its lock: on the libuv pool, not the JS thread.
class TrimWorker : public Napi::AsyncWorker {
 public:
  explicit TrimWorker(Napi::Env env) : Napi::AsyncWorker(env, "vmpulse:malloc_trim"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
#if defined(__GLIBC__)
    released_ = malloc_trim(0) != 0;
#endif
  }
  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), released_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  bool released_ = false;
};

}  // namespace

// mallocTrim(): malloc_trim(0) hands the free pages of every arena back to the kernel (madvise), not
// only each heap's free top; resolves true when some were.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  auto* w = new TrimWorker(info.Env());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace vmp
