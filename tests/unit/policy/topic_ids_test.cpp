// TopicIdBook (policy/topic_ids.h): ids learned from Metadata, resolved for ACLs.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "policy/topic_ids.h"

using kedge::policy::TopicIdBook;

namespace {

std::string id_of(std::uint32_t n) {
  std::string id(16, '\0');
  for (int i = 0; i < 4; ++i) id[static_cast<std::size_t>(12 + i)] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  id[0] = '\x5d';  // never the zero id
  return id;
}

}  // namespace

TEST_CASE("a learned id resolves to its name; an unseen one does not", "[topic_ids]") {
  TopicIdBook book;
  CHECK_FALSE(book.name_of(id_of(1)).has_value());
  book.learn(id_of(1), "orders");
  book.learn(id_of(2), "payments");
  CHECK(book.name_of(id_of(1)) == std::optional<std::string>("orders"));
  CHECK(book.name_of(id_of(2)) == std::optional<std::string>("payments"));
  CHECK_FALSE(book.name_of(id_of(3)).has_value());
  CHECK(book.size() == 2);
  // A topic deleted and created again under the same id is not possible; a renamed answer replaces the old one.
  book.learn(id_of(1), "orders-v2");
  CHECK(book.name_of(id_of(1)) == std::optional<std::string>("orders-v2"));
  CHECK(book.size() == 2);
}

TEST_CASE("the zero id and ids of the wrong size are never learned or resolved", "[topic_ids]") {
  TopicIdBook book;
  book.learn(std::string(16, '\0'), "no-id");
  book.learn(std::string(15, 'x'), "short");
  book.learn(std::string(17, 'x'), "long");
  CHECK(book.size() == 0);
  CHECK_FALSE(book.name_of(std::string(16, '\0')).has_value());
  CHECK_FALSE(book.name_of("").has_value());
}

TEST_CASE("a full book starts over rather than growing without bound", "[topic_ids]") {
  TopicIdBook book;
  for (std::uint32_t n = 0; n < TopicIdBook::kMaxTopics; ++n) book.learn(id_of(n), "t");
  CHECK(book.size() == TopicIdBook::kMaxTopics);
  CHECK(book.restarts() == 0);
  book.learn(id_of(5), "t");  // known: no restart
  CHECK(book.restarts() == 0);
  book.learn(id_of(TopicIdBook::kMaxTopics), "newest");
  CHECK(book.restarts() == 1);
  CHECK(book.size() == 1);
  CHECK(book.name_of(id_of(TopicIdBook::kMaxTopics)) == std::optional<std::string>("newest"));
  CHECK_FALSE(book.name_of(id_of(5)).has_value());
}

TEST_CASE("workers learn and resolve at once", "[topic_ids]") {
  TopicIdBook book;
  std::atomic<int> torn{0};  // Catch2 assertions are not thread-safe: count, check after join
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&book, &torn, t] {
      for (std::uint32_t n = 0; n < 2000; ++n) {
        book.learn(id_of(n), "topic-" + std::to_string(n));
        const auto name = book.name_of(id_of((n * 7 + static_cast<std::uint32_t>(t)) % 2000));
        if (name && name->rfind("topic-", 0) != 0) ++torn;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(torn == 0);
  CHECK(book.size() == 2000);
  CHECK(book.name_of(id_of(1999)) == std::optional<std::string>("topic-1999"));
}
