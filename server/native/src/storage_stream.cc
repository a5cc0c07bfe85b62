// Storage pools and volumes, and libvirt streams: a directory pool on the (remote) host for memory
// dumps, and a volume's bytes streamed back with virStorageVolDownload. The stream is pulled: each
// read() is one virStreamRecv on a libuv worker thread, and the next is asked for only when the JS
// side wants more, so a slow consumer holds the remote back (backpressure).
#include "common.h"

#include <mutex>

namespace vmp {

namespace {

struct PoolPtr {
  virStoragePoolPtr p = nullptr;
  ~PoolPtr() { if (p) virStoragePoolFree(p); }
};
struct VolPtr {
  virStorageVolPtr v = nullptr;
  ~VolPtr() { if (v) virStorageVolFree(v); }
};

std::string XmlEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '\'': o += "&apos;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// A download stream shared by its JS handle and whichever task uses it.
struct StreamState {
  explicit StreamState(virConnectPtr c) : conn(c) {}
  ~StreamState() {
    if (st) {
      if (!ended) virStreamAbort(st);
      virStreamFree(st);
    }
  }
  ConnRef conn;
  virStreamPtr st = nullptr;
  bool ended = false;
  std::mutex mu;  // one libvirt call on the stream at a time
};

// Looks a pool up by name, refreshed; on failure records the error.
class PoolTask : public Task {
 public:
  PoolTask(virConnectPtr c, std::string pool) : Task(c), pool_(std::move(pool)) {}

 protected:
  bool OpenPool(PoolPtr& pp) {
    pp.p = virStoragePoolLookupByName(conn(), pool_.c_str());
    if (!pp.p) { FailLibvirt("virStoragePoolLookupByName"); return false; }
    if (virStoragePoolRefresh(pp.p, 0) < 0) { FailLibvirt("virStoragePoolRefresh"); return false; }
    return true;
  }
  std::string pool_;
};

class EnsureDirPoolTask : public PoolTask {
 public:
  EnsureDirPoolTask(virConnectPtr c, std::string pool, std::string dir) : PoolTask(c, std::move(pool)), dir_(std::move(dir)) {}
  void Run() override {
    PoolPtr pp;
    pp.p = virStoragePoolLookupByName(conn(), pool_.c_str());
    if (!pp.p) {
      virResetLastError();
      std::string xml = "<pool type='dir'><name>" + XmlEscape(pool_) + "</name><target><path>" + XmlEscape(dir_) +
                        "</path><permissions><mode>0700</mode></permissions></target></pool>";
      // Transient: nothing stays defined on the host; WITH_BUILD makes the directory.
      pp.p = virStoragePoolCreateXML(conn(), xml.c_str(), VIR_STORAGE_POOL_CREATE_WITH_BUILD);
      if (!pp.p) return FailLibvirt("virStoragePoolCreateXML");
    } else if (virStoragePoolIsActive(pp.p) != 1) {
      if (virStoragePoolCreate(pp.p, VIR_STORAGE_POOL_CREATE_WITH_BUILD) < 0) return FailLibvirt("virStoragePoolCreate");
    }
    char* xml = virStoragePoolGetXMLDesc(pp.p, 0);
    if (!xml) return FailLibvirt("virStoragePoolGetXMLDesc");
    std::string x(xml);
    free(xml);
    auto a = x.find("<path>"), b = x.find("</path>");
    if (a != std::string::npos && b != std::string::npos && b > a) path_ = x.substr(a + 6, b - a - 6);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, path_); }

 private:
  std::string dir_, path_;
};

class DeleteVolTask : public PoolTask {
 public:
  DeleteVolTask(virConnectPtr c, std::string pool, std::string vol) : PoolTask(c, std::move(pool)), vol_(std::move(vol)) {}
  void Run() override {
    PoolPtr pp;
    if (!OpenPool(pp)) return;
    VolPtr vp;
    vp.v = virStorageVolLookupByName(pp.p, vol_.c_str());
    if (!vp.v) return FailLibvirt("virStorageVolLookupByName");
    if (virStorageVolDelete(vp.v, 0) < 0) FailLibvirt("virStorageVolDelete");
  }

 private:
  std::string vol_;
};

class OpenDownloadTask : public PoolTask {
 public:
  OpenDownloadTask(virConnectPtr c, std::string pool, std::string vol, std::shared_ptr<StreamState> s)
      : PoolTask(c, std::move(pool)), vol_(std::move(vol)), s_(std::move(s)) {}
  void Run() override {
    PoolPtr pp;
    if (!OpenPool(pp)) return;
    VolPtr vp;
    vp.v = virStorageVolLookupByName(pp.p, vol_.c_str());
    if (!vp.v) return FailLibvirt("virStorageVolLookupByName");
    virStorageVolInfo vi;
    if (virStorageVolGetInfo(vp.v, &vi) == 0) size_ = vi.capacity;
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->st = virStreamNew(s_->conn.get(), 0);
    if (!s_->st) return FailLibvirt("virStreamNew");
    if (virStorageVolDownload(vp.v, s_->st, 0, 0, 0) < 0) FailLibvirt("virStorageVolDownload");
  }
  Napi::Value Result(Napi::Env env) override;

 private:
  std::string vol_;
  std::shared_ptr<StreamState> s_;
  unsigned long long size_ = 0;
};

class RecvTask : public Task {
 public:
  RecvTask(std::shared_ptr<StreamState> s, size_t max) : Task(nullptr), s_(std::move(s)), max_(max) {}
  void Run() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (!s_->st || s_->ended) { eof_ = true; return; }
    buf_.resize(max_);
    int n = virStreamRecv(s_->st, buf_.data(), max_);
    if (n < 0) return FailLibvirt("virStreamRecv");
    buf_.resize(static_cast<size_t>(n));
    eof_ = n == 0;
  }
  Napi::Value Result(Napi::Env env) override {
    if (eof_) return env.Null();
    return Napi::Buffer<char>::Copy(env, buf_.data(), buf_.size());
  }

 private:
  std::shared_ptr<StreamState> s_;
  size_t max_;
  std::vector<char> buf_;
  bool eof_ = false;
};

class EndTask : public Task {
 public:
  EndTask(std::shared_ptr<StreamState> s, bool abort) : Task(nullptr), s_(std::move(s)), abort_(abort) {}
  void Run() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (!s_->st || s_->ended) return;
    s_->ended = true;
    if (abort_) {
      virStreamAbort(s_->st);
    } else if (virStreamFinish(s_->st) < 0) {
      FailLibvirt("virStreamFinish");
    }
  }

 private:
  std::shared_ptr<StreamState> s_;
  bool abort_;
};

Napi::Value OpenDownloadTask::Result(Napi::Env env) {
  auto s = s_;
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", Napi::BigInt::New(env, static_cast<uint64_t>(size_)));
  o.Set("read", Napi::Function::New(env, [s](const Napi::CallbackInfo& info) -> Napi::Value {
          size_t max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : (1u << 20);
          if (max == 0 || max > (16u << 20)) max = 1u << 20;
          return QueueTask(info.Env(), std::make_unique<RecvTask>(s, max));
        }));
  o.Set("finish", Napi::Function::New(env, [s](const Napi::CallbackInfo& info) -> Napi::Value {
          return QueueTask(info.Env(), std::make_unique<EndTask>(s, false));
        }));
  o.Set("abort", Napi::Function::New(env, [s](const Napi::CallbackInfo& info) -> Napi::Value {
          return QueueTask(info.Env(), std::make_unique<EndTask>(s, true));
        }));
  return o;
}

}  // namespace

// storagePoolEnsureDir(name, dir): a directory pool named `name` (made transient, with its directory,
// when missing; started when inactive); resolves to its target path.
Napi::Value Connection::StoragePoolEnsureDir(const Napi::CallbackInfo& info) {
  std::string pool = ArgString(info, 0, "pool");
  std::string dir = ArgString(info, 1, "dir");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<EnsureDirPoolTask>(conn_, pool, dir));
}

// storageVolDelete(pool, vol)
Napi::Value Connection::StorageVolDelete(const Napi::CallbackInfo& info) {
  std::string pool = ArgString(info, 0, "pool");
  std::string vol = ArgString(info, 1, "vol");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<DeleteVolTask>(conn_, pool, vol));
}

// storageVolDownload(pool, vol): resolves to { size, read(max) → Buffer | null at the end, finish(), abort() }.
Napi::Value Connection::StorageVolDownload(const Napi::CallbackInfo& info) {
  std::string pool = ArgString(info, 0, "pool");
  std::string vol = ArgString(info, 1, "vol");
  if (closed()) return RejectClosed(info.Env());
  auto s = std::make_shared<StreamState>(conn_);
  return QueueTask(info.Env(), std::make_unique<OpenDownloadTask>(conn_, pool, vol, s));
}

}  // namespace vmp
