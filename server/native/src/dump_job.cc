// Core dumps (on a dedicated thread) and job progress / abort.
#include "common.h"

namespace vmp {

namespace {

class CoreDumpTask : public Task {
 public:
  CoreDumpTask(virConnectPtr c, std::string uuid, std::string path, unsigned format, unsigned flags)
      : Task(c), uuid_(std::move(uuid)), path_(std::move(path)), format_(format), flags_(flags) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    if (virDomainCoreDumpWithFormat(d.dom, path_.c_str(), format_, flags_) < 0)
      FailLibvirt("virDomainCoreDumpWithFormat");
  }

 private:
  std::string uuid_, path_;
  unsigned format_, flags_;
};

class JobStatsTask : public Task {
 public:
  JobStatsTask(virConnectPtr c, std::string uuid, unsigned flags) : Task(c), uuid_(std::move(uuid)), flags_(flags) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    virTypedParameterPtr params = nullptr;
    int nparams = 0;
    if (virDomainGetJobStats(d.dom, &type_, &params, &nparams, flags_) == 0) {
      AppendTypedParams(out_, params, nparams);
      virTypedParamsFree(params, nparams);
      return;
    }
    virErrorPtr e = virGetLastError();
    if (!e || e->code != VIR_ERR_NO_SUPPORT || flags_ != 0) return FailLibvirt("virDomainGetJobStats");
    virResetLastError();
    virDomainJobInfo ji;
    if (virDomainGetJobInfo(d.dom, &ji) < 0) return FailLibvirt("virDomainGetJobInfo");
    type_ = ji.type;
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_TIME_ELAPSED, ji.timeElapsed));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_TIME_REMAINING, ji.timeRemaining));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_DATA_TOTAL, ji.dataTotal));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_DATA_PROCESSED, ji.dataProcessed));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_DATA_REMAINING, ji.dataRemaining));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_MEMORY_TOTAL, ji.memTotal));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_MEMORY_PROCESSED, ji.memProcessed));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_MEMORY_REMAINING, ji.memRemaining));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_DISK_TOTAL, ji.fileTotal));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_DISK_PROCESSED, ji.fileProcessed));
    out_.push_back(Param::ULLong(VIR_DOMAIN_JOB_DISK_REMAINING, ji.fileRemaining));
    fallback_ = true;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", Napi::Number::New(env, type_));
    o.Set("params", ParamsToObject(env, out_));
    o.Set("fromJobInfo", Napi::Boolean::New(env, fallback_));
    return o;
  }

 private:
  std::string uuid_;
  unsigned flags_;
  int type_ = 0;
  ParamList out_;
  bool fallback_ = false;
};

class AbortJobTask : public Task {
 public:
  AbortJobTask(virConnectPtr c, std::string uuid) : Task(c), uuid_(std::move(uuid)) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    if (virDomainAbortJob(d.dom) < 0) FailLibvirt("virDomainAbortJob");
  }

 private:
  std::string uuid_;
};

}  // namespace

// coreDump(uuid, path, format: number, flags: number) — runs on its own thread so a
// minutes-long dump never starves the libuv pool that jobStats/abortJob need.
Napi::Value Connection::CoreDump(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  std::string path = ArgString(info, 1, "path");
  unsigned format = ArgFlags(info, 2);
  unsigned flags = ArgFlags(info, 3);
  if (closed()) return RejectClosed(info.Env());
  return RunTaskOnOwnThread(info.Env(), std::make_unique<CoreDumpTask>(conn_, uuid, path, format, flags));
}

Napi::Value Connection::JobStats(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<JobStatsTask>(conn_, uuid, ArgFlags(info, 1)));
}

Napi::Value Connection::AbortJob(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<AbortJobTask>(conn_, uuid));
}

}  // namespace vmp
