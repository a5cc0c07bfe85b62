// Bulk domain stats (virConnectGetAllDomainStats) and the single per-domain calls.
#include "stat_readers.h"

#include <cstring>

namespace vmp {

// ---- readers ----------------------------------------------------------------

static const char* MemoryTagName(int tag) {
  switch (tag) {
    case VIR_DOMAIN_MEMORY_STAT_SWAP_IN: return "swap_in";
    case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT: return "swap_out";
    case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT: return "major_fault";
    case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT: return "minor_fault";
    case VIR_DOMAIN_MEMORY_STAT_UNUSED: return "unused";
    case VIR_DOMAIN_MEMORY_STAT_AVAILABLE: return "available";
    case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON: return "actual";
    case VIR_DOMAIN_MEMORY_STAT_RSS: return "rss";
    case VIR_DOMAIN_MEMORY_STAT_USABLE: return "usable";
    case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE: return "last_update";
    case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES: return "disk_caches";
    case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC: return "hugetlb_pgalloc";
    case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL: return "hugetlb_pgfail";
    default: return nullptr;
  }
}

bool ReadMemoryStats(virDomainPtr dom, ParamList& out) {
  virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
  int n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
  if (n < 0) return false;
  for (int i = 0; i < n; i++) {
    const char* name = MemoryTagName(stats[i].tag);
    if (name) out.push_back(Param::ULLong(name, stats[i].val));
  }
  return true;
}

bool ReadInterfaceStats(virDomainPtr dom, const std::string& dev, ParamList& out) {
  virDomainInterfaceStatsStruct s;
  if (virDomainInterfaceStats(dom, dev.c_str(), &s, sizeof(s)) < 0) return false;
  auto add = [&out](const char* k, long long v) {
    if (v >= 0) out.push_back(Param::LLong(k, v));
  };
  add("rx_bytes", s.rx_bytes);
  add("rx_packets", s.rx_packets);
  add("rx_errs", s.rx_errs);
  add("rx_drop", s.rx_drop);
  add("tx_bytes", s.tx_bytes);
  add("tx_packets", s.tx_packets);
  add("tx_errs", s.tx_errs);
  add("tx_drop", s.tx_drop);
  return true;
}

static const char* BlockParamName(const char* field) {
  static const struct { const char* from; const char* to; } map[] = {
      {VIR_DOMAIN_BLOCK_STATS_READ_REQ, "rd_req"},
      {VIR_DOMAIN_BLOCK_STATS_READ_BYTES, "rd_bytes"},
      {VIR_DOMAIN_BLOCK_STATS_WRITE_REQ, "wr_req"},
      {VIR_DOMAIN_BLOCK_STATS_WRITE_BYTES, "wr_bytes"},
      {VIR_DOMAIN_BLOCK_STATS_ERRS, "errs"},
      {VIR_DOMAIN_BLOCK_STATS_FLUSH_REQ, "flush_req"},
      {VIR_DOMAIN_BLOCK_STATS_READ_TOTAL_TIMES, "rd_total_times"},
      {VIR_DOMAIN_BLOCK_STATS_WRITE_TOTAL_TIMES, "wr_total_times"},
      {VIR_DOMAIN_BLOCK_STATS_FLUSH_TOTAL_TIMES, "flush_total_times"},
  };
  for (const auto& m : map)
    if (strcmp(field, m.from) == 0) return m.to;
  return field;
}

bool ReadBlockStats(virDomainPtr dom, const std::string& dev, ParamList& out) {
  int nparams = 0;
  if (virDomainBlockStatsFlags(dom, dev.c_str(), nullptr, &nparams, 0) == 0 && nparams > 0) {
    std::vector<virTypedParameter> params(static_cast<size_t>(nparams));
    if (virDomainBlockStatsFlags(dom, dev.c_str(), params.data(), &nparams, VIR_TYPED_PARAM_STRING_OKAY) < 0)
      return false;
    for (int i = 0; i < nparams; i++) {
      const virTypedParameter& p = params[static_cast<size_t>(i)];
      if (p.type == VIR_TYPED_PARAM_LLONG) {
        if (p.value.l >= 0) out.push_back(Param::LLong(BlockParamName(p.field), p.value.l));
      } else {
        ParamList tmp;
        AppendTypedParams(tmp, &p, 1);
        for (auto& t : tmp) {
          t.key = BlockParamName(p.field);
          out.push_back(std::move(t));
        }
      }
    }
    virTypedParamsClear(params.data(), nparams);
    return true;
  }
  virErrorPtr e = virGetLastError();
  if (e && e->code != VIR_ERR_NO_SUPPORT && e->code != VIR_ERR_OK) return false;
  virResetLastError();
  virDomainBlockStatsStruct s;
  if (virDomainBlockStats(dom, dev.c_str(), &s, sizeof(s)) < 0) return false;
  auto add = [&out](const char* k, long long v) {
    if (v >= 0) out.push_back(Param::LLong(k, v));
  };
  add("rd_req", s.rd_req);
  add("rd_bytes", s.rd_bytes);
  add("wr_req", s.wr_req);
  add("wr_bytes", s.wr_bytes);
  add("errs", s.errs);
  return true;
}

bool ReadVcpus(virDomainPtr dom, int maxVcpus, std::vector<virVcpuInfo>& out) {
  if (maxVcpus <= 0) {
    virDomainInfo info;
    if (virDomainGetInfo(dom, &info) < 0) return false;
    maxVcpus = info.nrVirtCpu;
  }
  out.resize(static_cast<size_t>(maxVcpus));
  int n = virDomainGetVcpus(dom, out.data(), maxVcpus, nullptr, 0);
  if (n < 0) {
    out.clear();
    return false;
  }
  out.resize(static_cast<size_t>(n));
  return true;
}

bool ReadCpuStats(virDomainPtr dom, ParamList& out) {
  int n = virDomainGetCPUStats(dom, nullptr, 0, -1, 1, 0);
  if (n < 0) return false;
  if (n == 0) return true;
  std::vector<virTypedParameter> params(static_cast<size_t>(n));
  int got = virDomainGetCPUStats(dom, params.data(), static_cast<unsigned>(n), -1, 1, 0);
  if (got < 0) return false;
  AppendTypedParams(out, params.data(), got);
  virTypedParamsClear(params.data(), got);
  return true;
}

// ---- bulk stats ---------------------------------------------------------------

namespace {

struct StatsRecord {
  std::string uuid;
  std::string name;
  ParamList params;
};

class AllStatsTask : public Task {
 public:
  AllStatsTask(virConnectPtr c, unsigned groups, unsigned flags, std::vector<std::string> uuids, bool subset, bool table)
      : Task(c), groups_(groups), flags_(flags), uuids_(std::move(uuids)), subset_(subset), table_(table) {}
  void Run() override {
    virDomainStatsRecordPtr* records = nullptr;
    int n;
    if (subset_) {
      std::vector<virDomainPtr> doms;
      for (const auto& u : uuids_) {
        virDomainPtr d = virDomainLookupByUUIDString(conn(), u.c_str());
        if (d) doms.push_back(d);
        else virResetLastError();  // gone: left out of the result
      }
      if (doms.empty()) return;
      doms.push_back(nullptr);
      n = virDomainListGetStats(doms.data(), groups_, &records, flags_);
      for (virDomainPtr d : doms)
        if (d) virDomainFree(d);
      if (n < 0) return FailLibvirt("virDomainListGetStats");
    } else {
      n = virConnectGetAllDomainStats(conn(), groups_, &records, flags_);
      if (n < 0) return FailLibvirt("virConnectGetAllDomainStats");
    }
    out_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
      StatsRecord& r = out_[static_cast<size_t>(i)];
      char uuid[VIR_UUID_STRING_BUFLEN];
      if (virDomainGetUUIDString(records[i]->dom, uuid) == 0) r.uuid = uuid;
      const char* name = virDomainGetName(records[i]->dom);
      r.name = name ? name : "";
      AppendTypedParams(r.params, records[i]->params, records[i]->nparams);
    }
    virDomainStatsRecordListFree(records);
  }
  Napi::Value Result(Napi::Env env) override {
    if (table_) {
      std::vector<TableRow> rows;
      rows.reserve(out_.size());
      for (const StatsRecord& r : out_) rows.push_back({&r.uuid, &r.name, &r.params});
      return ParamsToTable(env, rows);
    }
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("uuid", Napi::String::New(env, out_[i].uuid));
      o.Set("name", Napi::String::New(env, out_[i].name));
      o.Set("params", ParamsToObject(env, out_[i].params));
      arr.Set(static_cast<uint32_t>(i), o);
    }
    return arr;
  }

 private:
  unsigned groups_;
  unsigned flags_;
  std::vector<std::string> uuids_;
  bool subset_;
  bool table_;
  std::vector<StatsRecord> out_;
};

enum class Single { MEMORY, INTERFACE, BLOCK, CPU };

class SingleStatsTask : public Task {
 public:
  SingleStatsTask(virConnectPtr c, std::string uuid, Single what, std::string dev)
      : Task(c), uuid_(std::move(uuid)), what_(what), dev_(std::move(dev)) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    switch (what_) {
      case Single::MEMORY: if (!ReadMemoryStats(d.dom, out_)) FailLibvirt("virDomainMemoryStats"); break;
      case Single::INTERFACE: if (!ReadInterfaceStats(d.dom, dev_, out_)) FailLibvirt("virDomainInterfaceStats"); break;
      case Single::BLOCK: if (!ReadBlockStats(d.dom, dev_, out_)) FailLibvirt("virDomainBlockStats"); break;
      case Single::CPU: if (!ReadCpuStats(d.dom, out_)) FailLibvirt("virDomainGetCPUStats"); break;
    }
  }
  Napi::Value Result(Napi::Env env) override { return ParamsToObject(env, out_); }

 private:
  std::string uuid_;
  Single what_;
  std::string dev_;
  ParamList out_;
};

class VcpusTask : public Task {
 public:
  VcpusTask(virConnectPtr c, std::string uuid) : Task(c), uuid_(std::move(uuid)) {}
  void Run() override {
    DomainPtr d = Lookup(uuid_);
    if (!d) return;
    if (!ReadVcpus(d.dom, 0, out_)) FailLibvirt("virDomainGetVcpus");
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("number", Napi::Number::New(env, out_[i].number));
      o.Set("state", Napi::Number::New(env, out_[i].state));
      o.Set("cpuTime", Napi::BigInt::New(env, static_cast<uint64_t>(out_[i].cpuTime)));
      o.Set("cpu", Napi::Number::New(env, out_[i].cpu));
      arr.Set(static_cast<uint32_t>(i), o);
    }
    return arr;
  }

 private:
  std::string uuid_;
  std::vector<virVcpuInfo> out_;
};

}  // namespace

// getAllDomainStats(groups: number, flags: number, uuids?: string[] | null, table?: boolean)
Napi::Value Connection::GetAllDomainStats(const Napi::CallbackInfo& info) {
  unsigned groups = ArgFlags(info, 0);
  unsigned flags = ArgFlags(info, 1);
  std::vector<std::string> uuids;
  bool subset = info.Length() > 2 && info[2].IsArray();
  if (subset) {
    Napi::Array a = info[2].As<Napi::Array>();
    uuids.reserve(a.Length());
    for (uint32_t i = 0; i < a.Length(); i++) uuids.push_back(a.Get(i).ToString().Utf8Value());
  }
  bool table = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<AllStatsTask>(conn_, groups, flags, std::move(uuids), subset, table));
}

Napi::Value Connection::MemoryStats(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<SingleStatsTask>(conn_, uuid, Single::MEMORY, ""));
}

Napi::Value Connection::InterfaceStats(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  std::string dev = ArgString(info, 1, "dev");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<SingleStatsTask>(conn_, uuid, Single::INTERFACE, dev));
}

Napi::Value Connection::BlockStats(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  std::string dev = ArgString(info, 1, "dev");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<SingleStatsTask>(conn_, uuid, Single::BLOCK, dev));
}

Napi::Value Connection::CpuStats(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<SingleStatsTask>(conn_, uuid, Single::CPU, ""));
}

Napi::Value Connection::Vcpus(const Napi::CallbackInfo& info) {
  std::string uuid = ArgString(info, 0, "uuid");
  if (closed()) return RejectClosed(info.Env());
  return QueueTask(info.Env(), std::make_unique<VcpusTask>(conn_, uuid));
}

}  // namespace vmp
