// cli/args: the one command-line parser every `kedge <command>` uses.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"

using kedge::cli::Args;
using kedge::cli::OptionSpec;

namespace {
constexpr OptionSpec kSpecs[] = {{"--config", "-c", true}, {"--json"}, {"--timeout-ms", {}, true}};

std::optional<Args> parse(std::vector<std::string_view> words, std::string& error) {
  return Args::parse(words, kSpecs, error);
}
}  // namespace

TEST_CASE("options, aliases and flags are found by name", "[cli][args]") {
  std::string error;
  const auto args = parse({"-c", "kedge.json", "--json", "--timeout-ms", "250"}, error);
  REQUIRE(args);
  CHECK(args->value("--config") == "kedge.json");
  CHECK(args->has("--json"));
  CHECK_FALSE(args->has("--gateway-address"));
  bool ok = false;
  CHECK(args->integer("--timeout-ms", 1, 1000, ok) == 250);
  CHECK(ok);
}

TEST_CASE("usage errors name the word at fault", "[cli][args]") {
  struct Row { std::vector<std::string_view> words; const char* error; };
  const Row rows[] = {
      {{"--frob"}, "unexpected argument '--frob'"},
      {{"--config"}, "--config needs a value"},
      {{"--json", "--json"}, "--json given twice"},
      {{"-c", "a", "--config", "b"}, "--config given twice"},
      {{"kedge.json"}, "unexpected argument 'kedge.json'"},
  };
  for (const Row& row : rows) {
    std::string error;
    CHECK_FALSE(parse(row.words, error));
    CHECK(error == row.error);
  }
}

TEST_CASE("integer options are bounded and whole", "[cli][args]") {
  for (const char* text : {"0", "1001", "12x", "", "-5", "99999999999999999999"}) {
    INFO(text);
    std::string error;
    const auto args = parse({"--timeout-ms", text}, error);
    REQUIRE(args);
    bool ok = true;
    CHECK_FALSE(args->integer("--timeout-ms", 1, 1000, ok));
    CHECK_FALSE(ok);
  }
  std::string error;
  const auto absent = parse({}, error);
  bool ok = false;
  CHECK_FALSE(absent->integer("--timeout-ms", 1, 1000, ok));
  CHECK(ok);  // absent is not an error
}
