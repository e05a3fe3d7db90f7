#pragma once
// How many CPUs this process may actually use: the default number of worker
// loops ("workers": 0). std::thread::hardware_concurrency() counts every CPU
// of the machine, so a process confined by taskset, a cpuset cgroup or a
// container CPU quota would start more loops than it has CPUs; the loops then
// take turns on the same core, and every hand-over is a sleep and a wake-up
// (an inter-processor interrupt charged to whoever sent the bytes). HAProxy's
// nbthread default likewise counts the CPUs the process is bound to.
#include <optional>
#include <string>
#include <string_view>

namespace kedge {

struct CpuBudget {
  unsigned online = 1;           // std::thread::hardware_concurrency() (at least 1)
  unsigned affinity = 1;         // CPUs in this thread's affinity mask (sched_getaffinity)
  std::optional<double> quota;   // cgroup v2 cpu.max quota / period, in CPUs; nullopt = no limit
  unsigned usable = 1;           // min(affinity, ceil(quota)), at least 1

  std::string describe() const;  // e.g. "1 of 2 CPUs in the affinity mask, no cgroup CPU quota"
};

// Reads the affinity mask and, when the process is in a cgroup v2 hierarchy
// mounted at /sys/fs/cgroup, its cpu.max. Never fails: what cannot be read
// does not limit.
CpuBudget usable_cpus();

// cgroup v2 cpu.max ("$MAX $PERIOD", MAX may be "max"): CPUs the quota allows,
// or nullopt for no limit or text that is not that format.
std::optional<double> parse_cgroup_cpu_max(std::string_view text);

// The cgroup v2 path ("0::/path" line) of /proc/self/cgroup, or nullopt.
std::optional<std::string> parse_cgroup_v2_path(std::string_view proc_self_cgroup);

}  // namespace kedge
