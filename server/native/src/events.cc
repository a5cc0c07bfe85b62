// libvirt's default event loop on its own thread, lifecycle + close callbacks.
#include "common.h"

#include <mutex>
#include <thread>

namespace vmp {

static std::once_flag g_eventLoopOnce;

void StartEventLoopOnce() {
  // Must happen before the first connection opens (module init), once per
  // process even if the addon is loaded by several worker_threads.
  std::call_once(g_eventLoopOnce, []() {
    if (virEventRegisterDefaultImpl() < 0) {
      virResetLastError();
      return;
    }
    std::thread([]() {
      for (;;) {
        if (virEventRunDefaultImpl() < 0) virResetLastError();
      }
    }).detach();
  });
}

const char* LifecycleEventName(int event) {
  switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED: return "defined";
    case VIR_DOMAIN_EVENT_UNDEFINED: return "undefined";
    case VIR_DOMAIN_EVENT_STARTED: return "started";
    case VIR_DOMAIN_EVENT_SUSPENDED: return "suspended";
    case VIR_DOMAIN_EVENT_RESUMED: return "resumed";
    case VIR_DOMAIN_EVENT_STOPPED: return "stopped";
    case VIR_DOMAIN_EVENT_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_EVENT_PMSUSPENDED: return "pmsuspended";
    case VIR_DOMAIN_EVENT_CRASHED: return "crashed";
    default: return "unknown";
  }
}

static int LifecycleCallback(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  if (virDomainGetUUIDString(dom, uuid) < 0) virResetLastError();
  const char* name = virDomainGetName(dom);
  static_cast<EventSink*>(opaque)->PostLifecycle(uuid, name ? name : "", event, detail);
  return 0;
}

int RegisterLifecycle(virConnectPtr conn, EventSink* sink) {
  sink->Ref();
  int id = virConnectDomainEventRegisterAny(conn, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            VIR_DOMAIN_EVENT_CALLBACK(LifecycleCallback), sink,
                                            EventSink::FreeOpaque);
  // On failure the ref is deliberately leaked: some drivers already call
  // freecb on a failed registration, and a double unref would be worse.
  return id;
}

void CloseCallback(virConnectPtr, int reason, void* opaque) { static_cast<EventSink*>(opaque)->PostClose(reason); }

}  // namespace vmp
