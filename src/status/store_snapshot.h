#pragma once
// One read transaction on a store, ended however the reader returns.

#include "core/error.h"
#include "store/store.h"

namespace broadcastd {

class StoreSnapshot {
 public:
  // REQUIRES: no transaction open on `store`. On failure nothing is left open.
  static Result<StoreSnapshot> Begin(Store& store) {
    if (auto begun = store.BeginSnapshot(); !begun) return std::unexpected(begun.error());
    return StoreSnapshot(store);
  }
  StoreSnapshot(StoreSnapshot&& other) noexcept : store_(other.store_) { other.store_ = nullptr; }
  StoreSnapshot(const StoreSnapshot&) = delete;
  StoreSnapshot& operator=(const StoreSnapshot&) = delete;
  StoreSnapshot& operator=(StoreSnapshot&&) = delete;
  ~StoreSnapshot() {
    if (store_ != nullptr) store_->EndSnapshot();
  }

 private:
  explicit StoreSnapshot(Store& store) : store_(&store) {}
  Store* store_;
};

}  // namespace broadcastd
