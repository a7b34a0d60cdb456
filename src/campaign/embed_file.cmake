# Writes a C++ source that holds a file's bytes, so the binary never reads it at run time.
#   cmake -DINPUT=<file> -DOUTPUT=<file.cc> -DFUNCTION=<name> -P embed_file.cmake
# Defines `std::string_view broadcastd::<name>()`. Bytes are written as numbers,
# so no content can break the literal.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(LENGTH "${hex}" hex_length)
math(EXPR length "${hex_length} / 2")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_file.cmake. Do not edit.
#include <string_view>

namespace broadcastd {
namespace {
constexpr char kBytes[] = {${bytes} '\\0'};
}  // namespace

std::string_view ${FUNCTION}() { return std::string_view(kBytes, ${length}); }

}  // namespace broadcastd
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
