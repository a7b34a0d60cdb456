#include "easemob/vendor_body.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace broadcastd {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A SAX reader, because the DOM parser turns an integer beyond uint64 into a
// double and loses digits; SAX hands over the number's original text.
class VendorBodyReader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  VendorBody& result() { return result_; }

  // Any value at data.id replaces an earlier one (duplicate keys: the last
  // wins, as in a DOM parse); only non-negative integers are IDs.
  bool null() override { return Id(""); }
  bool boolean(bool) override { return Id(""); }
  bool number_integer(number_integer_t) override { return Id(""); }  // negative
  bool number_unsigned(number_unsigned_t value) override { return Id(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override {
    // An integer too large for uint64 arrives here with its digits intact;
    // a real fraction or exponent is not an ID.
    return Id(AllDigits(text) ? text : "");
  }
  bool string(string_t& value) override {
    if (AtDataId()) {
      Id(AllDigits(value) ? value : "");
    } else if (AtRootKey("error")) {
      result_.error = value;
    } else if (AtRootKey("error_description")) {
      result_.error_description = value;
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Id("") && Push(false); }
  bool end_object() override { return Pop(); }
  bool start_array(std::size_t) override { return Id("") && Push(true); }
  bool end_array() override { return Pop(); }
  bool key(string_t& key) override {
    frames_.back().key = key;
    if (frames_.size() == 1 && key == "data") result_.broadcast_id.clear();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    std::string name;  // the key under which this container sits ("" at the root)
    std::string key;   // the last key read inside this object
  };

  // Records `id` when the parser stands at data.id; always continues.
  bool Id(const std::string& id) {
    if (AtDataId()) result_.broadcast_id = id;
    return true;
  }

  bool Push(bool array) {
    std::string name;
    if (!frames_.empty()) name = frames_.back().array ? "[]" : frames_.back().key;
    frames_.push_back(Frame{array, std::move(name), {}});
    return true;
  }
  bool Pop() {
    frames_.pop_back();
    return true;
  }
  bool AtRootKey(std::string_view key) const {
    return frames_.size() == 1 && !frames_[0].array && frames_[0].key == key;
  }
  bool AtDataId() const {
    return frames_.size() == 2 && !frames_[0].array && !frames_[1].array &&
           frames_[1].name == "data" && frames_[1].key == "id";
  }

  std::vector<Frame> frames_;
  VendorBody result_;
};

}  // namespace

std::optional<VendorBody> ReadVendorBody(std::string_view body) {
  VendorBodyReader reader;
  try {
    if (!nlohmann::json::sax_parse(body, &reader)) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::move(reader.result());
}

std::string Utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  // Step back over continuation bytes (10xxxxxx) to the start of the
  // sequence that the cut would split, and drop that sequence.
  size_t back = max_bytes;
  while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
  return std::string(text.substr(0, back));
}

}  // namespace broadcastd
