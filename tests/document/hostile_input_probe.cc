// Measures how long the document reader takes to refuse each hostile input,
// one input per process so that peak RSS can be read per case:
//   for c in deep alias_bomb self_alias huge utf8 dup multi; do
//     /usr/bin/time -f "$c %e s %M KiB" build/tests/document/document_hostile_probe $c; done
// Not a test: the tests assert the answers; this reports the cost.

#include <chrono>
#include <cstdio>
#include <string>

#include "document/document.h"
#include "fakes/hostile_yaml.h"

namespace {

std::string Input(const std::string& name) {
  if (name == "deep") return broadcastd::DeepNesting(10000);
  if (name == "alias_bomb") return broadcastd::BillionLaughs();
  if (name == "self_alias") return "a: &x [*x]\n";
  if (name == "huge") return std::string(64 * 1024 * 1024, '[');
  if (name == "utf8") return "a: b\n" + std::string(200000, 'x') + "\xff\n";
  if (name == "dup") return "a: 1\nb: 2\na: 3\n";
  if (name == "multi") return "a: 1\n---\nb: 2\n";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || Input(argv[1]).empty()) {
    std::fprintf(stderr, "usage: %s deep|alias_bomb|self_alias|huge|utf8|dup|multi\n", argv[0]);
    return 2;
  }
  std::string text = Input(argv[1]);
  auto start = std::chrono::steady_clock::now();
  auto doc = broadcastd::Document::Parse(text, "probe.yaml");
  auto elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("%-10s %8zu bytes  %8.3f ms  %s\n", argv[1], text.size(), elapsed.count(),
              doc ? "ACCEPTED" : doc.error().ToString().c_str());
  return doc ? 1 : 0;
}
