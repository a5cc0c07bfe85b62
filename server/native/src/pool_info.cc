// A storage pool's sizes (virStoragePoolGetInfo after a refresh): what the dumps feature checks
// before it asks a remote host for a memory dump into that pool.
#include "common.h"

namespace vmp {

namespace {

class PoolInfoTask : public Task {
 public:
  PoolInfoTask(virConnectPtr c, std::string pool) : Task(c), pool_(std::move(pool)) {}
  void Run() override {
    virStoragePoolPtr p = virStoragePoolLookupByName(conn(), pool_.c_str());
    if (!p) return FailLibvirt("virStoragePoolLookupByName");
    // A refresh re-reads the pool's file system: the sizes are of now, not of the last refresh.
    if (virStoragePoolRefresh(p, 0) < 0) FailLibvirt("virStoragePoolRefresh");
    else if (virStoragePoolGetInfo(p, &info_) < 0) FailLibvirt("virStoragePoolGetInfo");
    virStoragePoolFree(p);
  }
  Napi::Value Result(Napi::Env env) override {
    auto o = Napi::Object::New(env);
    o.Set("state", Napi::Number::New(env, info_.state));
    // Bytes, as JS numbers: exact up to 8 PiB.
    o.Set("capacity", Napi::Number::New(env, static_cast<double>(info_.capacity)));
    o.Set("allocation", Napi::Number::New(env, static_cast<double>(info_.allocation)));
    o.Set("available", Napi::Number::New(env, static_cast<double>(info_.available)));
    return o;
  }

 private:
  std::string pool_;
  virStoragePoolInfo info_{};
};

}  // namespace

// storagePoolInfo(pool): resolves to { state, capacity, allocation, available } (bytes), refreshed first.
Napi::Value Connection::StoragePoolInfo(const Napi::CallbackInfo& info) {
  std::string pool = ArgString(info, 0, "pool");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<PoolInfoTask>(conn_, pool));
}

}  // namespace vmp
