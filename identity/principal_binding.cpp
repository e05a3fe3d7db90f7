#include "identity/principal_binding.h"

#include <set>

#include "identity/principal.h"

namespace kedge::identity {

PrincipalBinding PrincipalBinding::parse(std::span<const std::string> entries) {
  PrincipalBinding binding;
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    const std::string where = "[" + std::to_string(i) + "] (\"" + printable_excerpt(entry) + "\")";
    if (entry.empty()) throw PrincipalBindingError(where + ": empty");
    if (const auto problem = principal_problem(entry)) {
      throw PrincipalBindingError(where + ": " + std::string(*problem));
    }
    const std::size_t star = entry.find('*');
    if (star != std::string::npos && star != entry.size() - 1) {
      throw PrincipalBindingError(where + ": \"*\" may only end an entry (\"prefix*\")");
    }
    if (!seen.insert(entry).second) throw PrincipalBindingError(where + ": listed twice");
    binding.entries_.push_back(entry);
  }
  return binding;
}

bool PrincipalBinding::binds(std::string_view principal) const noexcept {
  for (const auto& entry : entries_) {
    if (entry.back() == '*') {
      if (principal.starts_with(std::string_view(entry).substr(0, entry.size() - 1))) return true;
    } else if (principal == entry) {
      return true;
    }
  }
  return false;
}

std::string PrincipalBinding::describe() const {
  if (entries_.empty()) return "(none)";
  std::string text;
  for (const auto& entry : entries_) {
    if (!text.empty()) text += ", ";
    text += printable_excerpt(entry);
  }
  return text;
}

}  // namespace kedge::identity
