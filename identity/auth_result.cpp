#include "identity/auth_result.h"

#include <fmt/format.h>

namespace kedge::identity {

std::string_view label(AuthErrc code) {
  switch (code) {
#define KEDGE_X(name, label, scram_error, text) \
  case AuthErrc::name: return label;
    KEDGE_AUTH_FAILURES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

std::string_view scram_error_value(AuthErrc code) {
  switch (code) {
#define KEDGE_X(name, label, scram_error, text) \
  case AuthErrc::name: return scram_error;
    KEDGE_AUTH_FAILURES(KEDGE_X)
#undef KEDGE_X
  }
  return "other-error";
}

std::string_view describe(AuthErrc code) {
  switch (code) {
#define KEDGE_X(name, label, scram_error, text) \
  case AuthErrc::name: return text;
    KEDGE_AUTH_FAILURES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown failure";
}

std::string client_message(AuthErrc code, std::string_view mechanism) {
  if (code == AuthErrc::unknown_user || code == AuthErrc::wrong_password) {
    return fmt::format("Authentication failed during authentication due to invalid credentials with SASL mechanism {}",
                       mechanism);
  }
  return fmt::format("Authentication failed: {}", describe(code));
}

}  // namespace kedge::identity
