// CommunityData: the wik::Data of one community (include/wik/data.h) over the store.
//
// Every statement runs inside CommunityScope::transact_app (so nothing is written for a community
// that is not installed) with the community id bound as $1 ahead of the caller's values; a
// statement without $1 is refused. Calls run on the given blocking pool and give up waiting after
// `deadline` (kUnavailable; the transaction still ends on its own). Borrows the store and the pool,
// which must outlive it; cheap to make per event. Thread-safe like the store.
#pragma once

#include <wik/data.h>

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace wik::app {

// True when `sql` uses the parameter $1 (and not only $10, $11, ...).
bool uses_community_parameter(std::string_view sql) noexcept;

// A caller's statements inside one store transaction, with $1 bound to `community_id`; a
// statement without $1 is refused. Borrows the transaction and the id.
class ScopedTransaction final : public DataTransaction {
 public:
  ScopedTransaction(store::Transaction& tx, std::string_view community_id) : tx_(tx), community_id_(community_id) {}

  Result<DataRows> query(std::string_view sql, const DataValues& values) override;
  Result<std::int64_t> execute(std::string_view sql, const DataValues& values) override;

 private:
  Result<std::vector<store::SqlValue>> bind(std::string_view sql, const DataValues& values) const;

  store::Transaction& tx_;
  std::string_view community_id_;
};

class CommunityData final : public Data {
 public:
  CommunityData(store::Store& store, boost::asio::thread_pool& pool, std::string community_id,
                std::chrono::milliseconds deadline = std::chrono::seconds(30));

  boost::asio::awaitable<Result<void>> transact(std::function<Result<void>(DataTransaction&)> work) override;

 private:
  store::Store& store_;
  boost::asio::thread_pool& pool_;
  std::string community_id_;
  std::chrono::milliseconds deadline_;
};

}  // namespace wik::app
