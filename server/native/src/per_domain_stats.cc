// Batched per-domain stats: for drivers whose bulk call lacks groups (the test
// driver) or to poll a subset, do every per-domain call for many domains on ONE
// worker thread and return bulk-style keys (cpu.time, balloon.*, net.N.*, block.N.*, vcpu.*).
#include "stat_readers.h"

#include <cstring>

namespace vmp {

// Pull `dev` from the <target .../> inside each <element>…</element>. Disks
// without a <source> (empty CD-ROMs) are skipped: they have no stats.
std::vector<std::string> ExtractTargetDevs(const std::string& xml, const char* element) {
  std::vector<std::string> devs;
  const std::string open = std::string("<") + element;
  const std::string close = std::string("</") + element + ">";
  const bool isDisk = strcmp(element, "disk") == 0;
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char c = xml[after];
    if (c != ' ' && c != '>' && c != '\t' && c != '\n') {
      pos = after;
      continue;
    }
    size_t end = xml.find(close, after);
    if (end == std::string::npos) break;
    std::string body = xml.substr(after, end - after);
    pos = end + close.size();
    if (isDisk && body.find("<source") == std::string::npos) continue;
    size_t t = body.find("<target");
    while (t != std::string::npos) {
      size_t tagEnd = body.find('>', t);
      if (tagEnd == std::string::npos) break;
      std::string tag = body.substr(t, tagEnd - t);
      size_t d = tag.find(" dev=");
      if (d != std::string::npos && d + 6 < tag.size()) {
        char q = tag[d + 5];
        size_t valEnd = tag.find(q, d + 6);
        if ((q == '\'' || q == '"') && valEnd != std::string::npos) {
          devs.push_back(tag.substr(d + 6, valEnd - d - 6));
          break;
        }
      }
      t = body.find("<target", tagEnd);
    }
  }
  return devs;
}

namespace {

struct Item {
  std::string uuid;
  bool haveIfaces = false;
  bool haveBlocks = false;
  std::vector<std::string> ifaces;
  std::vector<std::string> blocks;
};

struct Partial {
  std::string call;
  LvError err;
};

struct Out {
  std::string uuid;
  std::string name;
  ParamList params;
  std::vector<std::string> ifaces;
  std::vector<std::string> blocks;
  bool failed = false;
  LvError error;
  std::vector<Partial> partial;
};

struct Want {
  bool memory = true, interfaces = true, blocks = true, vcpus = true, cpu = true;
  bool table = false;  // answer as one table (stats_table.cc) plus `extra`
};

static std::string Key(const char* group, size_t i, const char* leaf) {
  std::string k(group);
  k += '.';
  k += std::to_string(i);
  k += '.';
  k += leaf;
  return k;
}

class BatchTask : public Task {
 public:
  BatchTask(virConnectPtr c, std::vector<Item> items, Want want)
      : Task(c), items_(std::move(items)), want_(want) {}

  void Run() override {
    // The test driver's virDomainGetCPUStats is a constant; its
    // virDomainGetInfo cpuTime moves with the clock, so use that there.
    const char* type = virConnectGetType(conn());
    if (type == nullptr) virResetLastError();
    cpuTimeFromInfo_ = type != nullptr && strcmp(type, "TEST") == 0;
    out_.resize(items_.size());
    for (size_t i = 0; i < items_.size(); i++) One(items_[i], out_[i]);
  }

  Napi::Value Result(Napi::Env env) override {
    if (want_.table) return TableResult(env);
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      const Out& o = out_[i];
      Napi::Object r = Napi::Object::New(env);
      r.Set("uuid", Napi::String::New(env, o.uuid));
      r.Set("name", Napi::String::New(env, o.name));
      r.Set("params", ParamsToObject(env, o.params));
      Napi::Object devices = Napi::Object::New(env);
      devices.Set("interfaces", StringArray(env, o.ifaces));
      devices.Set("blocks", StringArray(env, o.blocks));
      r.Set("devices", devices);
      if (o.failed) r.Set("error", ErrorObject(env, o.error));
      if (!o.partial.empty()) {
        Napi::Array p = Napi::Array::New(env, o.partial.size());
        for (size_t j = 0; j < o.partial.size(); j++) {
          Napi::Object e = ErrorObject(env, o.partial[j].err);
          e.Set("call", Napi::String::New(env, o.partial[j].call));
          p.Set(static_cast<uint32_t>(j), e);
        }
        r.Set("partial", p);
      }
      arr.Set(static_cast<uint32_t>(i), r);
    }
    return arr;
  }

  // The table, and `extra[i]` only where there is more to say than params: devices read from the
  // domain XML (not the caller's lists), an error, partial failures.
  Napi::Value TableResult(Napi::Env env) {
    std::vector<TableRow> rows;
    rows.reserve(out_.size());
    for (const Out& o : out_) rows.push_back({&o.uuid, &o.name, &o.params});
    Napi::Object t = ParamsToTable(env, rows);
    Napi::Array extra = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      const Out& o = out_[i];
      const Item& it = items_[i];
      bool fetched = !(it.haveIfaces && it.haveBlocks);
      if (!fetched && !o.failed && o.partial.empty()) continue;
      Napi::Object e = Napi::Object::New(env);
      if (fetched) {
        Napi::Object devices = Napi::Object::New(env);
        devices.Set("interfaces", StringArray(env, o.ifaces));
        devices.Set("blocks", StringArray(env, o.blocks));
        e.Set("devices", devices);
      }
      if (o.failed) e.Set("error", ErrorObject(env, o.error));
      if (!o.partial.empty()) {
        Napi::Array p = Napi::Array::New(env, o.partial.size());
        for (size_t j = 0; j < o.partial.size(); j++) {
          Napi::Object pe = ErrorObject(env, o.partial[j].err);
          pe.Set("call", Napi::String::New(env, o.partial[j].call));
          p.Set(static_cast<uint32_t>(j), pe);
        }
        e.Set("partial", p);
      }
      extra.Set(static_cast<uint32_t>(i), e);
    }
    t.Set("extra", extra);
    return t;
  }

 private:
  static Napi::Array StringArray(Napi::Env env, const std::vector<std::string>& v) {
    Napi::Array a = Napi::Array::New(env, v.size());
    for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
    return a;
  }
  static Napi::Object ErrorObject(Napi::Env env, const LvError& e) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("code", Napi::Number::New(env, e.code));
    o.Set("domain", Napi::Number::New(env, e.domain));
    o.Set("message", Napi::String::New(env, e.message));
    return o;
  }
  static void Note(Out& o, const char* call) { o.partial.push_back({call, CaptureLastError(call)}); }

  void One(const Item& item, Out& o) {
    o.uuid = item.uuid;
    DomainPtr d(virDomainLookupByUUIDString(conn(), item.uuid.c_str()));
    if (!d) {
      o.failed = true;
      o.error = CaptureLastError("virDomainLookupByUUIDString");
      return;
    }
    const char* name = virDomainGetName(d.dom);
    o.name = name ? name : "";
    virDomainInfo info;
    if (virDomainGetInfo(d.dom, &info) < 0) {
      o.failed = true;
      o.error = CaptureLastError("virDomainGetInfo");
      return;
    }
    ParamList& p = o.params;
    p.push_back(Param::Int("state.state", info.state));
    p.push_back(Param::ULLong("balloon.maximum", info.maxMem));
    p.push_back(Param::ULLong("balloon.current", info.memory));
    p.push_back(Param::UInt("vcpu.current", info.nrVirtCpu));

    const bool active = info.state == VIR_DOMAIN_RUNNING || info.state == VIR_DOMAIN_BLOCKED ||
                        info.state == VIR_DOMAIN_PAUSED || info.state == VIR_DOMAIN_SHUTDOWN ||
                        info.state == VIR_DOMAIN_PMSUSPENDED;

    // Devices: the caller's cached lists, else the domain XML.
    o.ifaces = item.ifaces;
    o.blocks = item.blocks;
    bool needIf = want_.interfaces && !item.haveIfaces;
    bool needBlk = want_.blocks && !item.haveBlocks;
    if (needIf || needBlk) {
      char* xml = virDomainGetXMLDesc(d.dom, 0);
      if (xml) {
        std::string x(xml);
        free(xml);
        if (needIf) o.ifaces = ExtractTargetDevs(x, "interface");
        if (needBlk) o.blocks = ExtractTargetDevs(x, "disk");
      } else {
        Note(o, "virDomainGetXMLDesc");
      }
    }

    if (!active) {
      p.push_back(Param::ULLong("cpu.time", info.cpuTime));
      return;
    }

    if (want_.cpu) {
      ParamList cpu;
      bool haveTime = false;
      if (ReadCpuStats(d.dom, cpu)) {
        for (auto& c : cpu) {
          const char* key = c.key == VIR_DOMAIN_CPU_STATS_CPUTIME ? "cpu.time"
                            : c.key == VIR_DOMAIN_CPU_STATS_USERTIME ? "cpu.user"
                            : c.key == VIR_DOMAIN_CPU_STATS_SYSTEMTIME ? "cpu.system"
                                                                       : nullptr;
          if (!key) continue;
          if (strcmp(key, "cpu.time") == 0) {
            if (cpuTimeFromInfo_) continue;
            haveTime = true;
          }
          c.key = key;
          p.push_back(std::move(c));
        }
      } else {
        virResetLastError();  // unsupported by the driver: info's cpuTime below
      }
      if (!haveTime) p.push_back(Param::ULLong("cpu.time", info.cpuTime));
    } else {
      p.push_back(Param::ULLong("cpu.time", info.cpuTime));
    }

    if (want_.memory) {
      ParamList mem;
      if (ReadMemoryStats(d.dom, mem)) {
        for (auto& m : mem) {
          if (m.key == "actual") {
            p[2] = Param::ULLong("balloon.current", m.ul);  // same slot as info.memory
            continue;
          }
          std::string key = m.key == "last_update" ? "balloon.last-update" : "balloon." + m.key;
          m.key = std::move(key);
          p.push_back(std::move(m));
        }
      } else {
        Note(o, "virDomainMemoryStats");
      }
    }

    if (want_.vcpus) {
      int max = virDomainGetMaxVcpus(d.dom);
      if (max < 0) {
        virResetLastError();
        max = static_cast<int>(info.nrVirtCpu);
      }
      p.push_back(Param::UInt("vcpu.maximum", static_cast<uint32_t>(max)));
      std::vector<virVcpuInfo> vcpus;
      if (ReadVcpus(d.dom, static_cast<int>(info.nrVirtCpu), vcpus)) {
        for (const auto& v : vcpus) {
          p.push_back(Param::Int(Key("vcpu", v.number, "state"), v.state));
          p.push_back(Param::ULLong(Key("vcpu", v.number, "time"), v.cpuTime));
        }
      } else {
        Note(o, "virDomainGetVcpus");
      }
    }

    if (want_.interfaces) {
      p.push_back(Param::UInt("net.count", static_cast<uint32_t>(o.ifaces.size())));
      ParamList s;
      for (size_t i = 0; i < o.ifaces.size(); i++) {
        p.push_back(Param::Str(Key("net", i, "name"), o.ifaces[i]));
        s.clear();
        if (!ReadInterfaceStats(d.dom, o.ifaces[i], s)) {
          Note(o, "virDomainInterfaceStats");
          continue;
        }
        for (const auto& v : s) {
          static const struct { const char* from; const char* to; } map[] = {
              {"rx_bytes", "rx.bytes"}, {"rx_packets", "rx.pkts"}, {"rx_errs", "rx.errs"}, {"rx_drop", "rx.drop"},
              {"tx_bytes", "tx.bytes"}, {"tx_packets", "tx.pkts"}, {"tx_errs", "tx.errs"}, {"tx_drop", "tx.drop"}};
          for (const auto& m : map)
            if (v.key == m.from) p.push_back(Param::ULLong(Key("net", i, m.to), static_cast<uint64_t>(v.l)));
        }
      }
    }

    if (want_.blocks) {
      p.push_back(Param::UInt("block.count", static_cast<uint32_t>(o.blocks.size())));
      ParamList s;
      for (size_t i = 0; i < o.blocks.size(); i++) {
        p.push_back(Param::Str(Key("block", i, "name"), o.blocks[i]));
        s.clear();
        if (!ReadBlockStats(d.dom, o.blocks[i], s)) {
          Note(o, "virDomainBlockStats");
          continue;
        }
        for (const auto& v : s) {
          static const struct { const char* from; const char* to; } map[] = {
              {"rd_req", "rd.reqs"},      {"rd_bytes", "rd.bytes"},          {"rd_total_times", "rd.times"},
              {"wr_req", "wr.reqs"},      {"wr_bytes", "wr.bytes"},          {"wr_total_times", "wr.times"},
              {"flush_req", "fl.reqs"},   {"flush_total_times", "fl.times"}, {"errs", "errors"}};
          if (v.kind != Param::I64) continue;
          for (const auto& m : map)
            if (v.key == m.from) p.push_back(Param::ULLong(Key("block", i, m.to), static_cast<uint64_t>(v.l)));
        }
      }
    }
  }

  std::vector<Item> items_;
  Want want_;
  bool cpuTimeFromInfo_ = false;
  std::vector<Out> out_;
};

std::vector<std::string> ToStrings(const Napi::Value& v) {
  std::vector<std::string> out;
  Napi::Array a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).ToString().Utf8Value());
  return out;
}

}  // namespace

// domainStatsPerCall(items: Array<string | {uuid, interfaces?, blocks?}>, opts?)
Napi::Value Connection::DomainStatsPerCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "items must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<Item> items;
  items.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    Item it;
    if (v.IsString()) {
      it.uuid = v.As<Napi::String>().Utf8Value();
    } else if (v.IsObject()) {
      Napi::Object o = v.As<Napi::Object>();
      it.uuid = o.Get("uuid").ToString().Utf8Value();
      Napi::Value ifs = o.Get("interfaces");
      if (ifs.IsArray()) { it.haveIfaces = true; it.ifaces = ToStrings(ifs); }
      Napi::Value bl = o.Get("blocks");
      if (bl.IsArray()) { it.haveBlocks = true; it.blocks = ToStrings(bl); }
    } else {
      throw Napi::TypeError::New(env, "each item must be a uuid string or {uuid, interfaces?, blocks?}");
    }
    items.push_back(std::move(it));
  }
  Want want;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    want.memory = OptBool(o, "memory", true);
    want.interfaces = OptBool(o, "interfaces", true);
    want.blocks = OptBool(o, "blocks", true);
    want.vcpus = OptBool(o, "vcpus", true);
    want.cpu = OptBool(o, "cpu", true);
    want.table = OptBool(o, "table", false);
  }
  if (closed()) return RejectClosed(env);
  return QueueTask(env, std::make_unique<BatchTask>(conn_, std::move(items), want));
}

}  // namespace vmp
