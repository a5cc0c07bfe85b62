// Per-domain stat readers shared by the single calls and the batched call.
// All run on a worker thread; on failure they return false and leave the
// libvirt error of the calling thread set.
#pragma once

#include "common.h"

namespace vmp {

// Keys are libvirt tag names (swap_in … hugetlb_pgfail; actual_balloon → actual).
bool ReadMemoryStats(virDomainPtr dom, ParamList& out);
// rx_bytes, rx_packets, rx_errs, rx_drop, tx_* (negative = unsupported, omitted).
bool ReadInterfaceStats(virDomainPtr dom, const std::string& dev, ParamList& out);
// rd_req, rd_bytes, wr_req, wr_bytes, errs, flush_req, *_total_times.
bool ReadBlockStats(virDomainPtr dom, const std::string& dev, ParamList& out);
bool ReadVcpus(virDomainPtr dom, int maxVcpus, std::vector<virVcpuInfo>& out);
// Total over all host CPUs: cpu_time, user_time, system_time (as libvirt names them).
bool ReadCpuStats(virDomainPtr dom, ParamList& out);

}  // namespace vmp

namespace vmp {

// stats_table.cc: records → one table (keys and strings once, values in one ArrayBuffer).
struct TableRow {
  const std::string* uuid;
  const std::string* name;
  const ParamList* params;
};
Napi::Object ParamsToTable(Napi::Env env, const std::vector<TableRow>& rows);

}  // namespace vmp
