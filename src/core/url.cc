#include "core/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace broadcastd {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL: nothing when the URL has none (CURLUE_NO_*).
std::optional<std::string> Part(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, 0) != CURLUE_OK || text == nullptr) return std::nullopt;
  std::string copy(text);
  curl_free(text);
  return copy;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<UrlParts> ParseUrl(std::string_view url) {
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return Fail(ErrorKind::kOther, "cannot parse a URL: out of memory");
  const std::string text(url);
  if (CURLUcode rc = curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return Fail(ErrorKind::kInvalid, curl_url_strerror(rc));
  }
  UrlParts parts;
  std::optional<std::string> scheme = Part(parsed.get(), CURLUPART_SCHEME);
  std::optional<std::string> host = Part(parsed.get(), CURLUPART_HOST);
  if (!scheme || !host || host->empty()) return Fail(ErrorKind::kInvalid, "no scheme or host");
  parts.scheme = Lower(*scheme);
  parts.host = std::move(*host);
  if (std::optional<std::string> port = Part(parsed.get(), CURLUPART_PORT)) {
    parts.port = std::atoi(port->c_str());  // libcurl has checked: digits, 0 to 65535
  }
  parts.has_userinfo = Part(parsed.get(), CURLUPART_USER) ||
                       Part(parsed.get(), CURLUPART_PASSWORD) ||
                       Part(parsed.get(), CURLUPART_OPTIONS);
  parts.path = Part(parsed.get(), CURLUPART_PATH).value_or("/");
  parts.has_query_or_fragment =
      Part(parsed.get(), CURLUPART_QUERY) || Part(parsed.get(), CURLUPART_FRAGMENT);
  parts.loopback = IsLoopbackHost(parts.host);
  return parts;
}

bool IsLoopbackHost(std::string_view host) {
  const std::string lower = Lower(host);
  if (lower == "localhost") return true;
  std::string bare = lower;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, bare.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  in_addr v4{};
  if (inet_pton(AF_INET, bare.c_str(), &v4) != 1) return false;
  return (ntohl(v4.s_addr) >> 24) == 127;
}

}  // namespace broadcastd
