// The default number of worker loops: CPUs the process may use, not CPUs the
// machine has (gateway/cpu_budget.h).
#include <sched.h>

#include <catch2/catch.hpp>

#include "control/cpu_budget.h"

using kedge::parse_cgroup_cpu_max;
using kedge::parse_cgroup_v2_path;

TEST_CASE("cgroup v2 cpu.max: quota / period in CPUs, no limit otherwise", "[cpus]") {
  CHECK(parse_cgroup_cpu_max("max 100000\n") == std::nullopt);
  CHECK(parse_cgroup_cpu_max("200000 100000\n") == Approx(2.0));
  CHECK(parse_cgroup_cpu_max("150000 100000") == Approx(1.5));
  CHECK(parse_cgroup_cpu_max("50000 100000\n") == Approx(0.5));
  CHECK(parse_cgroup_cpu_max("") == std::nullopt);
  CHECK(parse_cgroup_cpu_max("100000") == std::nullopt);
  CHECK(parse_cgroup_cpu_max("100000 0") == std::nullopt);
  CHECK(parse_cgroup_cpu_max("0 100000") == std::nullopt);
  CHECK(parse_cgroup_cpu_max("-1 100000") == std::nullopt);
  CHECK(parse_cgroup_cpu_max("12x 100000") == std::nullopt);
}

TEST_CASE("cgroup v2 path from /proc/self/cgroup", "[cpus]") {
  CHECK(parse_cgroup_v2_path("0::/system.slice/kedge.service\n") == "/system.slice/kedge.service");
  CHECK(parse_cgroup_v2_path("0::/\n") == "/");
  // Hybrid hierarchy: v1 controllers listed first, the unified one last.
  CHECK(parse_cgroup_v2_path("12:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n0::/docker/abc") == "/docker/abc");
  // cgroup v1 only: no unified line, no quota read.
  CHECK(parse_cgroup_v2_path("4:cpu,cpuacct:/user.slice\n") == std::nullopt);
  CHECK(parse_cgroup_v2_path("") == std::nullopt);
}

TEST_CASE("a thread bound to one CPU gets one worker loop", "[cpus]") {
  cpu_set_t original;
  CPU_ZERO(&original);
  REQUIRE(sched_getaffinity(0, sizeof original, &original) == 0);
  const kedge::CpuBudget unbound = kedge::usable_cpus();
  CHECK(unbound.affinity == static_cast<unsigned>(CPU_COUNT(&original)));
  CHECK(unbound.usable >= 1);
  CHECK(unbound.usable <= unbound.affinity);

  int first = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; ++cpu)
    if (CPU_ISSET(cpu, &original)) first = cpu;
  REQUIRE(first >= 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
  const kedge::CpuBudget bound = kedge::usable_cpus();
  REQUIRE(sched_setaffinity(0, sizeof original, &original) == 0);
  CHECK(bound.affinity == 1);
  CHECK(bound.usable == 1);
  CHECK(bound.online == unbound.online);
  CHECK(bound.describe().starts_with("1 of "));
}
