#pragma once
// Which authenticated principals a virtual cluster admits (issue 17 "Principal -> virtual cluster
// binding"). Pure: no I/O, no OpenSSL.
//
// Entries, each one of:
//   "alice"      exactly this principal (case-sensitive, byte for byte: principals are opaque names)
//   "team-a-*"   every principal starting with "team-a-" (the "*" only as the last character)
//   "*"          every authenticated principal
// A "*" anywhere else, an empty entry, an entry failing principal_problem() (control characters, > 1 KiB)
// or a repeated entry is a load error (PrincipalBindingError: "[2] (\"a*b\"): ...", the 0-based index for
// the caller to put after its JSON path).
// An empty list binds no one.
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kedge::identity {

class PrincipalBindingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PrincipalBinding {
 public:
  PrincipalBinding() = default;  // binds no one
  static PrincipalBinding parse(std::span<const std::string> entries);

  // Whether `principal` is admitted. Never throws.
  bool binds(std::string_view principal) const noexcept;

  // The entries as configured, in order: for "principal "bob" is not bound to virtual cluster beta
  // (bound: alice, team-a-*)".
  const std::vector<std::string>& entries() const noexcept { return entries_; }
  // The entries joined with ", " ("(none)" when empty).
  std::string describe() const;

 private:
  std::vector<std::string> entries_;
};

}  // namespace kedge::identity
