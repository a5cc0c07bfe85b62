// The memory-dump pipeline's engine, all off the JS thread: raw bytes → SHA-256 in order (the
// seed's sha256, on a thread of its own) → 1 MiB blocks compressed by N threads with ISA-L's igzip,
// each block one complete gzip member (pigz-style: concatenated members are one standard .gz) →
// members written in block order to a file descriptor, with the SHA-256 of what is written.
// A block of zeros is not compressed again: the member of one is made once and copied.
// igzip level 1, measured on a 1 GiB guest's dump (90 % zero pages): 5.2 GB/s per core against
// libdeflate's 0.36 and `gzip -1`'s 0.22; on its non-zero pages 0.70 against libdeflate's 0.21 GB/s
// at about the same ratio (2.49 vs 2.55). The bytes come either from a file descriptor read by the
// engine's own thread (a FIFO libvirt writes into: JS never sees a byte) or from chunks JS hands
// over (a remote volume's stream). The reading and compressing threads run at a lower priority
// (nice) so the event loop wins the CPU; the hasher, the one step that cannot be split, does not.
// JS hears only events: progress counts (a few per second), the end of the input, a consumed
// chunk, and done or error.
#include "common.h"

#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace vmp {

namespace {

struct Block {
  std::unique_ptr<uint8_t[]> raw;
  size_t len = 0;
  std::unique_ptr<uint8_t[]> gz;
  size_t gzLen = 0;
  uint64_t seq = 0;
  int users = 0;  // the hasher and the writer: the block is free again when both are done with it
};

struct Chunk {
  const uint8_t* data;
  size_t len;
};

struct Event {
  enum Kind { PROGRESS, EOF_, CONSUMED, DONE, ERROR } kind;
  explicit Event(Kind k) : kind(k) {}
  uint64_t raw = 0, gz = 0;
  std::string sha256, gzipSha256, message;
};

const char* KindName(Event::Kind k) {
  switch (k) {
    case Event::PROGRESS: return "progress";
    case Event::EOF_: return "eof";
    case Event::CONSUMED: return "consumed";
    case Event::DONE: return "done";
    default: return "error";
  }
}

std::string Hex(const unsigned char* d, unsigned n) {
  static const char* x = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; i++) {
    s += x[d[i] >> 4];
    s += x[d[i] & 15];
  }
  return s;
}

// Levels 0–3 of igzip and the work area each needs.
size_t LevelBufSize(int level) {
  switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    default: return ISAL_DEF_LVL3_DEFAULT;
  }
}

class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  Pipeline(int inFd, int outFd, unsigned threads, int level, size_t blockSize, int nice, Napi::ThreadSafeFunction tsfn)
      : inFd_(inFd), outFd_(outFd), threads_(threads), level_(level), blockSize_(blockSize), nice_(nice),
        maxBlocks_(threads * 2 + 4), tsfn_(tsfn) {
    // Room for a member even when a block does not compress (igzip then stores it).
    gzCap_ = blockSize_ + blockSize_ / 16 + (64 << 10);
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    rawSha_ = EVP_MD_CTX_new();
    gzSha_ = EVP_MD_CTX_new();
    EVP_DigestInit_ex(rawSha_, EVP_sha256(), nullptr);
    EVP_DigestInit_ex(gzSha_, EVP_sha256(), nullptr);
  }
  ~Pipeline() {
    if (inFd_ >= 0) close(inFd_);
    if (wakeFd_ >= 0) close(wakeFd_);
    EVP_MD_CTX_free(rawSha_);
    EVP_MD_CTX_free(gzSha_);
    for (Block* b : all_) delete b;
  }

  void Start() {
    auto self = shared_from_this();
    std::thread([self] { self->Control(); }).detach();
  }

  // From JS: a chunk to take (JS keeps it alive until its "consumed" event), or the end of the input.
  void Push(const uint8_t* data, size_t len) {
    std::lock_guard<std::mutex> l(mu_);
    chunks_.push_back({data, len});
    cv_.notify_all();
  }
  void End() {
    std::lock_guard<std::mutex> l(mu_);
    pushEnded_ = true;
    cv_.notify_all();
  }
  void Abort() { Fail("aborted"); }

 private:
  void Nice() {
    if (nice_ > 0) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice_);
  }

  // One gzip member of `len` bytes of `in`, into `out` (gzCap_ bytes).
  int Deflate(const uint8_t* in, size_t len, uint8_t* out, size_t* outLen, uint8_t* levelBuf) {
    isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.level = static_cast<uint32_t>(level_);
    z.level_buf = levelBuf;
    z.level_buf_size = static_cast<uint32_t>(LevelBufSize(level_));
    z.gzip_flag = IGZIP_GZIP;
    z.end_of_stream = 1;
    z.flush = NO_FLUSH;
    z.next_in = const_cast<uint8_t*>(in);
    z.avail_in = static_cast<uint32_t>(len);
    z.next_out = out;
    z.avail_out = static_cast<uint32_t>(gzCap_);
    int rc = isal_deflate_stateless(&z);
    *outLen = z.total_out;
    return rc;
  }

  // The member of a whole block of zeros, compressed once per dump (the same bytes igzip writes
  // for every such block: compression is deterministic), so zero pages cost a scan, not a deflate.
  int ZeroMember(uint8_t* levelBuf) {
    std::unique_ptr<uint8_t[]> zeros(new uint8_t[blockSize_]());
    zeroGz_.reset(new uint8_t[gzCap_]);
    return Deflate(zeros.get(), blockSize_, zeroGz_.get(), &zeroGzLen_, levelBuf);
  }

  // All bytes zero? (The first byte, then memcmp of the block against itself shifted by one.)
  static bool IsZero(const uint8_t* p, size_t len) { return len == 0 || (p[0] == 0 && std::memcmp(p, p + 1, len - 1) == 0); }

  bool Stopped() {
    std::lock_guard<std::mutex> l(mu_);
    return stop_;
  }

  void Fail(std::string message) {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return;
    stop_ = true;
    error_ = std::move(message);
    cv_.notify_all();
    uint64_t one = 1;
    if (wakeFd_ >= 0) (void)!write(wakeFd_, &one, sizeof one);
  }

  void Post(Event* e) {
    if (tsfn_.BlockingCall(e, [](Napi::Env env, Napi::Function fn, Event* ev) {
          Napi::HandleScope scope(env);
          Napi::Object o = Napi::Object::New(env);
          o.Set("type", KindName(ev->kind));
          o.Set("rawBytes", Napi::Number::New(env, static_cast<double>(ev->raw)));
          o.Set("gzipBytes", Napi::Number::New(env, static_cast<double>(ev->gz)));
          if (ev->kind == Event::DONE) {
            o.Set("sha256", ev->sha256);
            o.Set("gzipSha256", ev->gzipSha256);
          }
          if (ev->kind == Event::ERROR) o.Set("message", ev->message);
          delete ev;
          fn.Call({o});
        }) != napi_ok)
      delete e;
  }
  void PostSimple(Event::Kind k) {
    auto* e = new Event(k);
    e->raw = rawBytes_;
    e->gz = gzBytes_.load();
    Post(e);
  }
  // A few progress events per second, from the control thread.
  void MaybeProgress() {
    auto now = std::chrono::steady_clock::now();
    if (now - lastProgress_ < std::chrono::milliseconds(200)) return;
    lastProgress_ = now;
    PostSimple(Event::PROGRESS);
  }

  // A free block to fill (nullptr once stopped); waits while maxBlocks_ are in flight (backpressure).
  Block* Acquire() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stop_ || !free_.empty() || all_.size() < maxBlocks_; });
    if (stop_) return nullptr;
    Block* b;
    if (!free_.empty()) {
      b = free_.back();
      free_.pop_back();
    } else {
      b = new Block();
      b->raw.reset(new uint8_t[blockSize_]);
      b->gz.reset(new uint8_t[gzCap_]);
      all_.push_back(b);
    }
    b->len = 0;
    return b;
  }
  // Called with mu_ held: one of the block's two users (hasher, writer) is done with it.
  void DropLocked(Block* b) {
    if (--b->users == 0) {
      free_.push_back(b);
      cv_.notify_all();
    }
  }
  void Release(Block* b) {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(b);
    cv_.notify_all();
  }
  // Hands a filled block to the hasher (in order) and the compressors (any order).
  void Submit(Block* b) {
    std::lock_guard<std::mutex> l(mu_);
    b->seq = submitted_++;
    b->users = 2;
    todo_.push_back(b);
    toHash_.push_back(b);
    cv_.notify_all();
  }

  // Reads the FIFO into blocks until its end. Returns the last, partly filled block (or nullptr).
  Block* ReadFd() {
    // A bigger pipe lets libvirt write ahead while we switch blocks (best effort).
    fcntl(inFd_, F_SETPIPE_SZ, 1 << 20);
    Block* b = nullptr;
    for (;;) {
      if (!b && !(b = Acquire())) return nullptr;
      ssize_t n = read(inFd_, b->raw.get() + b->len, blockSize_ - b->len);
      if (n > 0) {
        b->len += static_cast<size_t>(n);
        rawBytes_ += static_cast<uint64_t>(n);
        if (b->len == blockSize_) {
          Submit(b);
          b = nullptr;
        }
        MaybeProgress();
        continue;
      }
      if (n == 0) return b;
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        Fail(std::string("reading the dump: ") + strerror(errno));
        break;
      }
      pollfd fds[2] = {{inFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) {
        Fail(std::string("poll: ") + strerror(errno));
        break;
      }
      if (fds[1].revents) break;  // stopped
    }
    if (b) Release(b);
    return nullptr;
  }

  // Copies the chunks JS pushes into blocks until JS ends the input.
  Block* ReadPushed() {
    Block* b = nullptr;
    for (;;) {
      Chunk c;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !chunks_.empty() || pushEnded_; });
        if (stop_) break;
        if (chunks_.empty()) return b;
        c = chunks_.front();
        chunks_.pop_front();
      }
      for (size_t off = 0; off < c.len;) {
        if (!b && !(b = Acquire())) return nullptr;
        size_t n = std::min(blockSize_ - b->len, c.len - off);
        memcpy(b->raw.get() + b->len, c.data + off, n);
        b->len += n;
        off += n;
        if (b->len == blockSize_) {
          Submit(b);
          b = nullptr;
        }
      }
      rawBytes_ += c.len;
      PostSimple(Event::CONSUMED);
    }
    if (b) Release(b);
    return nullptr;
  }

  void Control() {
    lastProgress_ = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    // The hasher is started before this thread lowers its own priority: a Linux thread inherits
    // its creator's nice value (before, the hasher ran at nice 19 too, against its comment).
    workers.emplace_back([this] { Hash(); });
    for (unsigned i = 0; i < threads_; i++) workers.emplace_back([this] { Compress(); });
    Nice();
    Block* last = inFd_ >= 0 ? ReadFd() : ReadPushed();
    if (inFd_ >= 0) {
      // Closing the read end at once: on a stop, libvirt's writer gets a broken pipe and ends the dump.
      close(inFd_);
      inFd_ = -1;
    }
    if (!Stopped()) {
      PostSimple(Event::EOF_);
      bool any;
      {
        std::lock_guard<std::mutex> l(mu_);
        any = submitted_ > 0;
      }
      if (last && (last->len > 0 || !any)) Submit(last);  // an empty dump still makes a valid (empty) .gz
      else if (last) Release(last);
      else if (!any && (last = Acquire())) Submit(last);
    } else if (last) {
      Release(last);
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      inputDone_ = true;
      cv_.notify_all();
    }
    for (auto& t : workers) t.join();
    std::string err;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) err = error_;
    }
    if (err.empty()) {
      unsigned char d[EVP_MAX_MD_SIZE];
      unsigned n = 0;
      auto* e = new Event(Event::DONE);
      e->raw = rawBytes_;
      e->gz = gzBytes_.load();
      EVP_DigestFinal_ex(rawSha_, d, &n);
      e->sha256 = Hex(d, n);
      EVP_DigestFinal_ex(gzSha_, d, &n);
      e->gzipSha256 = Hex(d, n);
      Post(e);
    } else {
      auto* e = new Event(Event::ERROR);
      e->message = err;
      Post(e);
    }
    tsfn_.Release();
  }

  // The hasher: SHA-256 of the raw blocks, in order, alongside their compression. At the normal
  // priority: measured on a quiet machine, a niced hasher was the dump's bottleneck.
  void Hash() {
    for (;;) {
      Block* b;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !toHash_.empty() || inputDone_; });
        if (stop_ || toHash_.empty()) return;
        b = toHash_.front();
        toHash_.pop_front();
      }
      EVP_DigestUpdate(rawSha_, b->raw.get(), b->len);
      std::lock_guard<std::mutex> l(mu_);
      DropLocked(b);
    }
  }

  // A compressor: takes blocks in any order, compresses each into one gzip member, then waits for
  // its turn to hash and write it (members go out in block order).
  void Compress() {
    Nice();
    std::unique_ptr<uint8_t[]> levelBuf(new uint8_t[LevelBufSize(level_)]);
    for (;;) {
      Block* b;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !todo_.empty() || inputDone_; });
        if (stop_ || todo_.empty()) return;
        b = todo_.front();
        todo_.pop_front();
      }
      int rc = COMP_OK;
      if (b->len == blockSize_ && IsZero(b->raw.get(), b->len)) {
        // A whole block of zeros (most of a guest's memory): the member it always compresses to.
        std::call_once(zeroOnce_, [&] { zeroRc_ = ZeroMember(levelBuf.get()); });
        rc = zeroRc_;
        std::memcpy(b->gz.get(), zeroGz_.get(), zeroGzLen_);
        b->gzLen = zeroGzLen_;
      } else {
        rc = Deflate(b->raw.get(), b->len, b->gz.get(), &b->gzLen, levelBuf.get());
      }
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || nextWrite_ == b->seq; });
        if (stop_) {
          DropLocked(b);
          return;
        }
      }
      std::string err;
      if (rc != COMP_OK) err = "igzip: compression failed (" + std::to_string(rc) + ")";
      if (err.empty()) EVP_DigestUpdate(gzSha_, b->gz.get(), b->gzLen);
      for (size_t off = 0; err.empty() && off < b->gzLen;) {
        ssize_t n = write(outFd_, b->gz.get() + off, b->gzLen - off);
        if (n >= 0) off += static_cast<size_t>(n);
        else if (errno != EINTR) err = std::string("writing the dump: ") + strerror(errno);
      }
      if (!err.empty()) {
        {
          std::lock_guard<std::mutex> l(mu_);
          DropLocked(b);
        }
        Fail(err);
        return;
      }
      gzBytes_ += b->gzLen;
      std::lock_guard<std::mutex> l(mu_);
      nextWrite_++;
      DropLocked(b);
      cv_.notify_all();
    }
  }

  int inFd_;
  const int outFd_;
  const unsigned threads_;
  const int level_;
  const size_t blockSize_;
  const int nice_;
  const unsigned maxBlocks_;
  Napi::ThreadSafeFunction tsfn_;
  int wakeFd_ = -1;
  size_t gzCap_ = 0;
  EVP_MD_CTX* rawSha_;
  EVP_MD_CTX* gzSha_;
  std::chrono::steady_clock::time_point lastProgress_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string error_;
  bool inputDone_ = false;
  bool pushEnded_ = false;
  std::deque<Chunk> chunks_;
  std::deque<Block*> todo_;
  std::deque<Block*> toHash_;
  std::vector<Block*> free_;
  std::vector<Block*> all_;
  uint64_t submitted_ = 0;
  uint64_t nextWrite_ = 0;
  uint64_t rawBytes_ = 0;  // control thread only
  std::atomic<uint64_t> gzBytes_{0};
  std::once_flag zeroOnce_;
  int zeroRc_ = COMP_OK;
  std::unique_ptr<uint8_t[]> zeroGz_;
  size_t zeroGzLen_ = 0;
};

uint32_t OptU32(const Napi::Object& o, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

}  // namespace

// gzipPipeline({ inFd?, outFd, threads?, level?, blockSize?, nice? }, onEvent) → { push(buf), end(), abort() }.
// inFd (≥ 0): the engine reads it to its end and closes it; otherwise JS push()es chunks, each kept
// alive by JS until its "consumed" event, then end()s. outFd stays open (the caller closes it).
// onEvent({ type: 'progress' | 'eof' | 'consumed' | 'done' | 'error', rawBytes, gzipBytes, sha256?,
// gzipSha256?, message? }); 'done' or 'error' comes last, exactly once.
Napi::Value GzipPipeline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "gzipPipeline(options, onEvent)");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value in = o.Get("inFd");
  int inFd = in.IsNumber() ? in.As<Napi::Number>().Int32Value() : -1;
  Napi::Value out = o.Get("outFd");
  if (!out.IsNumber()) throw Napi::TypeError::New(env, "outFd must be a number");
  unsigned threads = std::max(1u, std::min(16u, OptU32(o, "threads", 2)));
  int level = static_cast<int>(std::min(3u, OptU32(o, "level", 1)));
  size_t blockSize = std::max(64u << 10, std::min(16u << 20, OptU32(o, "blockSize", 1u << 20)));
  int nice = static_cast<int>(std::min(19u, OptU32(o, "nice", 0)));
  auto tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "vmpulse:gzip-pipeline", 0, 1);
  auto p = std::make_shared<Pipeline>(inFd, out.As<Napi::Number>().Int32Value(), threads, level, blockSize, nice, tsfn);
  p->Start();
  Napi::Object h = Napi::Object::New(env);
  h.Set("push", Napi::Function::New(env, [p](const Napi::CallbackInfo& i) -> Napi::Value {
          if (i.Length() < 1 || !i[0].IsTypedArray()) throw Napi::TypeError::New(i.Env(), "push(Uint8Array)");
          auto a = i[0].As<Napi::Uint8Array>();
          p->Push(a.Data(), a.ByteLength());
          return i.Env().Undefined();
        }));
  h.Set("end", Napi::Function::New(env, [p](const Napi::CallbackInfo& i) -> Napi::Value {
          p->End();
          return i.Env().Undefined();
        }));
  h.Set("abort", Napi::Function::New(env, [p](const Napi::CallbackInfo& i) -> Napi::Value {
          p->Abort();
          return i.Env().Undefined();
        }));
  return h;
}

}  // namespace vmp

namespace vmp {

// mkfifo(path, mode): makes a FIFO without a child process (a spawn costs the event loop a fork).
Napi::Value MakeFifo(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  mode_t mode = static_cast<mode_t>(ArgFlags(info, 1));
  if (mkfifo(path.c_str(), mode) < 0) {
    Napi::Error e = Napi::Error::New(info.Env(), std::string("mkfifo ") + path + ": " + strerror(errno));
    e.Set("errno", Napi::Number::New(info.Env(), errno));
    throw e;
  }
  return info.Env().Undefined();
}

}  // namespace vmp
