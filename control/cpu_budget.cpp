#include "control/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace kedge {
namespace {

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str().substr(0, 4096);  // both files are one short line per entry
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<double> parse_cgroup_cpu_max(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view max = text.substr(0, space);
  const std::string_view period_text = text.substr(space + 1);
  std::uint64_t quota = 0, period = 0;
  if (max == "max" || !parse_u64(max, quota) || !parse_u64(period_text, period) || period == 0 || quota == 0)
    return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

std::optional<std::string> parse_cgroup_v2_path(std::string_view proc_self_cgroup) {
  while (!proc_self_cgroup.empty()) {
    const std::size_t eol = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, eol);
    if (line.starts_with("0::/")) return std::string(line.substr(3));
    if (eol == std::string_view::npos) break;
    proc_self_cgroup.remove_prefix(eol + 1);
  }
  return std::nullopt;
}

CpuBudget usable_cpus() {
  CpuBudget budget;
  budget.online = std::max(1u, std::thread::hardware_concurrency());
  budget.affinity = budget.online;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    budget.affinity = static_cast<unsigned>(CPU_COUNT(&set));
  if (const auto path = parse_cgroup_v2_path(read_small_file("/proc/self/cgroup"))) {
    // A quota may be set on any ancestor: the tightest one applies.
    std::string dir = *path;
    while (true) {
      const auto quota = parse_cgroup_cpu_max(read_small_file("/sys/fs/cgroup" + dir + "/cpu.max"));
      if (quota && (!budget.quota || *quota < *budget.quota)) budget.quota = quota;
      if (dir == "/" || dir.empty()) break;
      const std::size_t slash = dir.find_last_of('/');
      dir = slash == 0 ? "/" : dir.substr(0, slash);
    }
  }
  budget.usable = budget.affinity;
  if (budget.quota) {
    const auto allowed = static_cast<unsigned>(std::max(1.0, std::ceil(*budget.quota)));
    budget.usable = std::min(budget.usable, allowed);
  }
  budget.usable = std::max(1u, budget.usable);
  return budget;
}

std::string CpuBudget::describe() const {
  return fmt::format("{} of {} CPUs in the affinity mask, {}", affinity, online,
                     quota ? fmt::format("cgroup CPU quota {:.2f} CPUs", *quota) : "no cgroup CPU quota");
}

}  // namespace kedge
