#include "easemob/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <expected>
#include <memory>
#include <mutex>

#include "core/url.h"

namespace broadcastd {
namespace {

constexpr size_t kMaxResponseBytes = 1 << 20;  // more than any answer we classify
constexpr Duration kMaxRetryAfter = std::chrono::hours(24);

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// libcurl's own failures that happen before a connection to the server is
// up (or instead of one): no byte of the request can have left.
bool FailsBeforeSending(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
      return true;
    default:
      return false;
  }
}

struct Received {
  HttpResponse response;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t bytes = size * count;
  std::string& body = received->response.body;
  if (body.size() < kMaxResponseBytes) {
    body.append(data, std::min(bytes, kMaxResponseBytes - body.size()));
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // A new status line starts a new response (after a 100 Continue): keep
  // only the final one's headers.
  if (line.starts_with("HTTP/")) {
    received->response.headers.clear();
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  received->response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return bytes;
}

long Millis(Duration d) { return static_cast<long>(std::max<int64_t>(d.count(), 1)); }

TransportResult NotSent(std::string detail) {
  TransportResult result;
  result.failure = TransportFailure::kNotSent;
  result.detail = std::move(detail);
  return result;
}

bool HasLineBreak(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

Status CheckUrlPolicy(std::string_view url) {
  auto parts = ParseUrl(url);
  if (!parts) {
    return Fail(ErrorKind::kInvalid,
                "not a valid URL: " + std::string(url) + " (" + parts.error().message + ")");
  }
  if (parts->scheme == "https") return {};
  if (parts->scheme != "http") {
    return Fail(ErrorKind::kInvalid,
                "refusing URL scheme " + parts->scheme + ": " + std::string(url));
  }
  if (!parts->loopback) {
    return Fail(ErrorKind::kInvalid,
                "refusing plain http:// to non-loopback host " + parts->host + " (use https://)");
  }
  return {};
}

CurlTransport::CurlTransport(CurlOptions options) : options_(options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

// libcurl's progress callback: a non-zero return ends the transfer.
int OnProgress(void* aborted, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(aborted)->load() ? 1 : 0;
}

}  // namespace

namespace {

using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// The request's headers as libcurl takes them, or why they cannot be sent.
std::expected<HeaderList, std::string> HeaderLines(const HttpRequest& request) {
  HeaderList headers;
  auto add_header = [&](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
    return headers != nullptr;
  };
  for (const auto& [name, value] : request.headers) {
    if (HasLineBreak(name) || HasLineBreak(value)) {
      return std::unexpected("refusing a header with a line break: " + name);
    }
    if (!add_header(name + ": " + value)) return std::unexpected("out of memory building headers");
  }
  // No 100-continue round trip: the body goes out with the headers.
  if (!add_header("Expect:")) return std::unexpected("out of memory building headers");
  return headers;
}

// Where an answer and libcurl's error text go while the transfer runs.
struct Transfer {
  Received received;
  char error_text[CURL_ERROR_SIZE] = {};
};

// Sets every option of one request on `h`: the first option refused, or CURLE_OK.
CURLcode SetOptions(CURL* h, const HttpRequest& request, const CurlOptions& options, bool https,
                    curl_slist* headers, Transfer& transfer, std::atomic<bool>* aborted) {
  CURLcode set = CURLE_OK;
  auto opt = [&](CURLoption option, auto value) {
    if (set == CURLE_OK) set = curl_easy_setopt(h, option, value);
  };
  opt(CURLOPT_URL, request.url.c_str());
  opt(CURLOPT_PROTOCOLS_STR, "http,https");
  opt(CURLOPT_NOSIGNAL, 1L);
  opt(CURLOPT_ERRORBUFFER, transfer.error_text);
  opt(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  opt(CURLOPT_SSL_VERIFYPEER, 1L);
  opt(CURLOPT_SSL_VERIFYHOST, 2L);
  // Each request on its own connection, closed afterwards: on a reused
  // connection that turns out dead libcurl resends the request by itself,
  // POST included, and that may deliver a broadcast twice.
  opt(CURLOPT_FRESH_CONNECT, 1L);
  opt(CURLOPT_FORBID_REUSE, 1L);
  opt(CURLOPT_FOLLOWLOCATION, 0L);
  opt(CURLOPT_CONNECTTIMEOUT_MS, Millis(options.connect_timeout));
  opt(CURLOPT_TIMEOUT_MS, Millis(options.total_timeout));
  opt(CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
  opt(CURLOPT_LOW_SPEED_TIME,
      std::max<long>(1, static_cast<long>((options.low_speed_time.count() + 999) / 1000)));
  if (!https) opt(CURLOPT_PROXY, "");  // loopback goes straight to the socket
  opt(CURLOPT_HTTPHEADER, headers);
  opt(CURLOPT_WRITEFUNCTION, &OnBody);
  opt(CURLOPT_WRITEDATA, static_cast<void*>(&transfer.received));
  opt(CURLOPT_HEADERFUNCTION, &OnHeader);
  opt(CURLOPT_HEADERDATA, static_cast<void*>(&transfer.received));
  opt(CURLOPT_NOPROGRESS, 0L);
  opt(CURLOPT_XFERINFOFUNCTION, &OnProgress);
  opt(CURLOPT_XFERINFODATA, static_cast<void*>(aborted));
  if (request.method == "GET") {
    opt(CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST") opt(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    opt(CURLOPT_POST, 1L);
    opt(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    opt(CURLOPT_POSTFIELDS, request.body.c_str());
  }
  return set;
}

// The result of a transfer that completed: the answer, whatever its status.
TransportResult Answered(CURL* h, Received& received) {
  TransportResult result;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  received.response.status = static_cast<int>(status);
  curl_off_t retry_after = 0;
  // Before curl 8.12 the value can be negative; a nonsense value is ignored
  // and a huge one capped rather than trusted.
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    result.retry_after = std::min<Duration>(
        std::chrono::seconds(std::min<curl_off_t>(retry_after, 86400 * 7)), kMaxRetryAfter);
  }
  result.response = std::move(received.response);
  return result;
}

// The result of a transfer that failed with `code`: kNotSent only when no byte
// of the request can have left.
TransportResult Failed(CURL* h, CURLcode code, const char* error_text, bool https) {
  std::string detail = std::string("curl error ") + std::to_string(static_cast<int>(code)) + " (" +
                       curl_easy_strerror(code) + ")";
  if (error_text[0] != '\0') detail += ": " + std::string(error_text);

  // Zero on all three counts means no connection to the server was ever
  // usable and no request header was written: nothing left. A timeout while
  // connecting lands here; a timeout while waiting for the answer does not.
  curl_off_t connect_us = 0;
  curl_off_t pretransfer_us = 0;
  long request_bytes = 0;
  curl_easy_getinfo(h, https ? CURLINFO_APPCONNECT_TIME_T : CURLINFO_CONNECT_TIME_T, &connect_us);
  curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
  curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_bytes);
  const bool never_connected = connect_us == 0 && pretransfer_us == 0 && request_bytes == 0;

  TransportResult result;
  result.failure = FailsBeforeSending(code) || never_connected ? TransportFailure::kNotSent
                                                               : TransportFailure::kMaybeSent;
  result.detail = std::move(detail);
  return result;
}

}  // namespace

TransportResult CurlTransport::Send(const HttpRequest& request) {
  if (aborted_.load()) return NotSent("the transport was stopped (the daemon is stopping)");
  if (Status allowed = CheckUrlPolicy(request.url); !allowed) {
    return NotSent(allowed.error().message);
  }
  const bool https = Lower(request.url.substr(0, 8)) == "https://";

  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return NotSent("curl_easy_init failed");
  auto headers = HeaderLines(request);
  if (!headers) return NotSent(std::move(headers.error()));

  Transfer transfer;
  const CURLcode set =
      SetOptions(easy.get(), request, options_, https, headers->get(), transfer, &aborted_);
  if (set != CURLE_OK) {
    return NotSent(std::string("curl option refused: ") + curl_easy_strerror(set));
  }
  const CURLcode code = curl_easy_perform(easy.get());
  if (code == CURLE_OK) return Answered(easy.get(), transfer.received);
  return Failed(easy.get(), code, transfer.error_text, https);
}

}  // namespace broadcastd
